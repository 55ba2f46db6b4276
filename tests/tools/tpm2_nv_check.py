#!/usr/bin/env python3
"""Re-derives, independently of tcb/tpm2_nv.c and tcb/tpm2_session.c (Python
hmac/hashlib and the cryptography package), the recorded swtpm exchange in
tests/unit/tpm2_nv_swtpm.h: the PolicyPCR authPolicy from the PCR values,
the index's Name before and after its first write, the policy session's key,
NV_Write's command HMAC (whose cpHash holds the index's Name twice) and the
decryption of its data, and NV_Read's response HMAC and the decryption of
its data, both to rec_data. Run by hand, from the top of the tree:

  python3 tests/tools/tpm2_nv_check.py [PORT]

With PORT, the command port of a running swtpm, a trial session on it
computes the authPolicy from rec_pcr_values as well (PolicyPCR, then
PolicyGetDigest): tpm2-tools 5.4's tpm2_policypcr refuses more than 8
PCRs, so this takes its place."""
import re, hashlib, hmac, socket, struct, sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
src=open('tests/unit/tpm2_nv_swtpm.h').read()
arr={m.group(1):bytes(int(x,16) for x in re.findall(r'0x([0-9a-f]{2})',m.group(2))) for m in re.finditer(r'static const uint8_t (\w+)\[\d+\] = \{(.*?)\};',src,re.S)}
H=lambda b: hashlib.sha384(b).digest()
def kdfa(key,label,u,v,bits):
    out=b''; i=1
    while len(out)*8<bits:
        out+=hmac.new(key,struct.pack('>I',i)+label+b'\0'+u+v+struct.pack('>I',bits),hashlib.sha384).digest(); i+=1
    return out[:bits//8]
def cfb(key_iv,data):
    d=Cipher(algorithms.AES(key_iv[:16]),modes.CFB(key_iv[16:])).decryptor()
    return d.update(data)+d.finalize()
# The policy: PCRs 0-9 of the SHA-384 bank.
SEL=struct.pack('>IHB',1,0x000c,3)+bytes([0xff,0x03,0x00])
pcr_digest=H(arr['rec_pcr_values'])
policy=H(bytes(48)+struct.pack('>I',0x17f)+SEL+pcr_digest)
d=arr['rec_define_cmd']
area=d[10+4+4+9+2+2:]
assert len(area)==62 and d[10+4+4+9+2:10+4+4+9+4]==struct.pack('>H',62)
assert area[12:60]==policy, 'authPolicy'
print('policy', policy.hex())
name=b'\x00\x0c'+H(area)
attrs=struct.unpack('>I',area[6:10])[0]
written=b'\x00\x0c'+H(area[:6]+struct.pack('>I',attrs|0x20000000)+area[10:])
print('name', name.hex()); print('name written', written.hex())
# The session key, as in tpm2_session_check.py, for the policy session.
r=arr['rec_create_salt_rsp']
a=r[20:20+((r[18]<<8)|r[19])]
x=a[24:72]; y=a[74:122]
peer=ec.EllipticCurvePublicNumbers(int.from_bytes(x,'big'),int.from_bytes(y,'big'),ec.SECP384R1()).public_key()
priv=ec.derive_private_key(int.from_bytes(b'\x11'*48,'big'),ec.SECP384R1())
z=priv.exchange(ec.ECDH(),peer)
ex=priv.public_key().public_numbers().x.to_bytes(48,'big')
salt=H(struct.pack('>I',1)+z+b'SECRET\0'+ex+x)
start=arr['rec_start_cmd']
assert start[-9]==0x01, 'a policy session'
nt=arr['rec_start_rsp'][16:64]
assert arr['rec_start_rsp'][10]==0x03
skey=kdfa(salt,b'ATH',nt,b'\x30'*48,384)
AUTH=4+2+48+1+2+48
def auth_of(c):
    at=10+8+4
    return c[at+6:at+54], c[at+54], c[at+57:at+105], c[at+AUTH:]
def rsp_auth(rr):
    psize=struct.unpack('>I',rr[10:14])[0]; params=rr[14:14+psize]; au=rr[14+psize:]
    return params, au[2:50], au[50:51], au[53:]
# NV_Write: the command HMAC over cpHash = H(cc || Name || Name || params).
c=arr['rec_write_cmd']
nc,att,mac,params=auth_of(c)
assert nc==b'\x31'*48 and att==0x21
cp=H(struct.pack('>I',0x137)+name+name+params)
assert hmac.new(skey,cp+nc+nt+bytes([att]),hashlib.sha384).digest()==mac, 'NV_Write command hmac'
assert cfb(kdfa(skey,b'CFB',nc,nt,256),params[2:-2])==arr['rec_data'], 'NV_Write data'
assert params[-2:]==struct.pack('>H',192)
p,nt2,att2,rh=rsp_auth(arr['rec_write_rsp'])
assert p==b''
assert hmac.new(skey,H(bytes(4)+struct.pack('>I',0x137))+nt2+nc+att2,hashlib.sha384).digest()==rh, 'NV_Write response hmac'
# NV_Read: the Name now has TPMA_NV_WRITTEN; the answer encrypted.
c=arr['rec_read_cmd']
nc,att,mac,params=auth_of(c)
assert nc==b'\x32'*48 and att==0x41
cp=H(struct.pack('>I',0x14e)+written+written+params)
assert hmac.new(skey,cp+nc+nt2+bytes([att]),hashlib.sha384).digest()==mac, 'NV_Read command hmac'
p,nt3,att3,rh=rsp_auth(arr['rec_read_rsp'])
assert hmac.new(skey,H(bytes(4)+struct.pack('>I',0x14e)+p)+nt3+nc+att3,hashlib.sha384).digest()==rh, 'NV_Read response hmac'
assert cfb(kdfa(skey,b'CFB',nt3,nc,256),p[2:])==arr['rec_data'], 'NV_Read data'
print('exchange verified independently')
if len(sys.argv)>1:
    s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))
    def tpm(cc,body):
        s.sendall(struct.pack('>HII',0x8001,10+len(body),cc)+body)
        h=s.recv(10); n,rc=struct.unpack('>II',h[2:10]); rest=b''
        while len(rest)<n-10: rest+=s.recv(n-10-len(rest))
        assert rc==0, hex(rc)
        return rest
    # StartAuthSession: unsalted, unbound, TPM_SE_TRIAL, no symmetric, SHA-384.
    rest=tpm(0x176,struct.pack('>IIH',0x40000007,0x40000007,16)+bytes(16)+struct.pack('>HBHH',0,0x03,0x0010,0x000c))
    h=rest[:4]
    tpm(0x17f,h+struct.pack('>H',48)+pcr_digest+SEL)
    got=tpm(0x189,h)[2:]
    tpm(0x165,h)
    assert got==policy, 'the trial session computed '+got.hex()
    print('trial session on swtpm: the same policy')

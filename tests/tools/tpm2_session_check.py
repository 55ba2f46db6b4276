#!/usr/bin/env python3
"""Re-derives, independently of tcb/tpm2_session.c (Python hmac/hashlib and
the cryptography package), the KDFa/KDFe known answers of
tests/unit/test_tpm2_session.c and the recorded swtpm exchange in
tests/unit/tpm2_session_swtpm.h: the session key from the ephemeral scalar
and the salt key, the GetRandom command HMAC, the response HMAC, and the
decryption of the random bytes to rec_random_plain. Run by hand."""
import re, hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
src=open('tests/unit/tpm2_session_swtpm.h').read()
arr={m.group(1):bytes(int(x,16) for x in re.findall(r'0x([0-9a-f]{2})',m.group(2))) for m in re.finditer(r'static const uint8_t (\w+)\[\d+\] = \{(.*?)\};',src,re.S)}
def kdfa(key,label,u,v,bits):
    out=b''; i=1
    while len(out)*8<bits:
        out+=hmac.new(key,struct.pack('>I',i)+label+b'\0'+u+v+struct.pack('>I',bits),hashlib.sha384).digest(); i+=1
    return out[:bits//8]
def kdfe(z,label,u,v):
    return hashlib.sha384(struct.pack('>I',1)+z+label+b'\0'+u+v).digest()
# KATs with arbitrary inputs
K=bytes(range(48)); U=bytes([0xa0+i%16 for i in range(48)]); V=bytes([0x30]*48)
print('kdfa_ath', kdfa(K,b'ATH',U,V,384).hex())
print('kdfa_cfb', kdfa(K,b'CFB',U,V,256).hex())
print('kdfa_96', kdfa(K,b'XY',U[:16],b'',768).hex())
print('kdfe', kdfe(K,b'SECRET',U,V).hex())
# the exchange
r=arr['rec_create_salt_rsp']
pub=r[18:18+2+((r[18]<<8)|r[19])]
area=pub[2:]
x=area[24:72]; y=area[74:122]
assert len(x)==48 and len(y)==48
peer=ec.EllipticCurvePublicNumbers(int.from_bytes(x,'big'),int.from_bytes(y,'big'),ec.SECP384R1()).public_key()
priv=ec.derive_private_key(int.from_bytes(b'\x11'*48,'big'),ec.SECP384R1())
z=priv.exchange(ec.ECDH(),peer)
ex=priv.public_key().public_numbers().x.to_bytes(48,'big')
salt=kdfe(z,b'SECRET',ex,x)
start=arr['rec_start_cmd']
assert start[10+8+2+48+2+2:10+8+2+48+2+2+48]==ex, 'ephemeral x in the command'
nc=b'\x20'*48
srsp=arr['rec_start_rsp']; nt=srsp[16:64]
skey=kdfa(salt,b'ATH',nt,nc,384)
# GetRandom command HMAC
c=arr['rec_random_cmd']; nc2=b'\x21'*48
cp=hashlib.sha384(struct.pack('>I',0x17b)+c[-2:]).digest()
h=hmac.new(skey,cp+nc2+nt+b'\x41',hashlib.sha384).digest()
assert c[10+4+4+2+48+1+2:10+4+4+2+48+1+2+48]==h, 'command hmac'
rr=arr['rec_random_rsp']
psize=struct.unpack('>I',rr[10:14])[0]; params=rr[14:14+psize]
auth=rr[14+psize:]; nt2=auth[2:50]; attrs=auth[50:51]; rh=auth[53:]
rp=hashlib.sha384(b'\0\0\0\0'+struct.pack('>I',0x17b)+params).digest()
assert hmac.new(skey,rp+nt2+nc2+attrs,hashlib.sha384).digest()==rh, 'response hmac'
kiv=kdfa(skey,b'CFB',nt2,nc2,256)
d=Cipher(algorithms.AES(kiv[:16]),modes.CFB(kiv[16:])).decryptor()
plain=d.update(params[2:])+d.finalize()
assert plain==arr['rec_random_plain'], 'random bytes'
print('exchange verified independently; session key', skey.hex()[:16], '...')

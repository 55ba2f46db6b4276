#!/usr/bin/env python3
"""Re-derives, independently of tcb/tpm2_authorize.c (Python hashlib and
the cryptography package), what the recorded swtpm exchange in
tests/unit/tpm2_authorize_swtpm.h says: the CA key's public area and Name
from its private scalar (48 bytes 0x2a), the approved policy (PolicyPCR of
PCRs 0-9) and the other one (all zero), aHash = SHA-384(policy ||
"custos-tcb-key") and the CA's two recorded signatures over it, the
PolicyAuthorize authPolicy, and where each of them sits in the recorded
commands and responses (LoadExternal's public area and the TPM's Name,
VerifySignature's digest and signature, PolicyAuthorize's fields and the
ticket of VerifySignature, NV_DefineSpace's authPolicy, PolicyGetDigest's
answer). Run by hand, from the top of the tree:

  python3 tests/tools/tpm2_authorize_check.py [PORT]

With PORT, the command port of a running swtpm, tpm2-tools compute the
Name (tpm2_loadexternal -C o -G ecc384:ecdsa-sha384 -g sha384 -a
'sign|userwithauth') and the authPolicy (tpm2_policyauthorize in a
SHA-384 trial session) as well."""
import hashlib, os, re, struct, subprocess, sys, tempfile
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

src = open('tests/unit/tpm2_authorize_swtpm.h').read()
arr = {m.group(1): bytes(int(x, 16) for x in re.findall(r'0x([0-9a-f]{2})', m.group(2)))
       for m in re.finditer(r'static const uint8_t (\w+)\[\d+\] = \{(.*?)\};', src, re.S)}
H = lambda b: hashlib.sha384(b).digest()
REF = b'custos-tcb-key'
tpm2b = lambda b: struct.pack('>H', len(b)) + b

# The CA key and its TPMT_PUBLIC (Part 2: type, nameAlg, objectAttributes,
# authPolicy, TPMS_ECC_PARMS, TPMS_ECC_POINT).
ca = ec.derive_private_key(int.from_bytes(b'\x2a' * 48, 'big'), ec.SECP384R1())
pn = ca.public_key().public_numbers()
x, y = pn.x.to_bytes(48, 'big'), pn.y.to_bytes(48, 'big')
area = (struct.pack('>HHI', 0x23, 0x0c, 0x00040040) + tpm2b(b'') +
        struct.pack('>HHHHH', 0x10, 0x18, 0x0c, 0x04, 0x10) + tpm2b(x) + tpm2b(y))
name = b'\x00\x0c' + H(area)
print('CA key name', name.hex())
load = arr['rec_load_cmd']
assert load[10:12] == b'\x00\x00', 'inPrivate empty'
assert load[12:14 + len(area)] == tpm2b(area), 'LoadExternal inPublic'
assert load[14 + len(area):] == struct.pack('>I', 0x40000001), 'hierarchy TPM_RH_OWNER'
assert arr['rec_load_rsp'][14:] == tpm2b(name), "the TPM's Name"

# The policies, aHash and the CA's signatures.
SEL = struct.pack('>IHB', 1, 0x000c, 3) + bytes([0xff, 0x03, 0x00])
pcr_policy = lambda values: H(bytes(48) + struct.pack('>I', 0x17f) + SEL + H(values))
approved = pcr_policy(arr['rec_pcr_values'])
other = pcr_policy(bytes(480))
print('approved', approved.hex())
def check_sig(policy, sig):
    ahash = H(policy + REF)
    der = utils.encode_dss_signature(int.from_bytes(sig[:48], 'big'),
                                     int.from_bytes(sig[48:], 'big'))
    ca.public_key().verify(der, ahash, ec.ECDSA(utils.Prehashed(hashes.SHA384())))
    return ahash
ahash = check_sig(approved, arr['rec_sig'])
ahash_other = check_sig(other, arr['rec_sig_other'])
print('aHash', ahash.hex())
def verify_cmd(c, digest, sig):
    assert c[14:64] == tpm2b(digest), 'VerifySignature digest'
    assert c[64:68] == struct.pack('>HH', 0x18, 0x0c), 'ECDSA with SHA-384'
    assert c[68:] == tpm2b(sig[:48]) + tpm2b(sig[48:]), 'VerifySignature r, s'
verify_cmd(arr['rec_verify_cmd'], ahash, arr['rec_sig'])
verify_cmd(arr['rec_verify_wrong_cmd'], ahash, arr['rec_sig_other'])
verify_cmd(arr['rec_verify_other_cmd'], ahash_other, arr['rec_sig_other'])

# The authPolicy: PolicyUpdate(TPM_CC_PolicyAuthorize, keySign Name, policyRef).
policy = H(H(bytes(48) + struct.pack('>I', 0x16a) + name) + REF)
print('authPolicy', policy.hex())
assert arr['rec_define_cmd'][-50:-2] == policy, 'NV_DefineSpace authPolicy'
assert arr['rec_get_digest_rsp'][10:] == tpm2b(policy), 'PolicyGetDigest'
def authorize_cmd(c, ticket_rsp):
    assert c[14:] == tpm2b(approved) + tpm2b(REF) + tpm2b(name) + ticket_rsp[10:], \
        'PolicyAuthorize fields'
for n in ('write', 'read', 'not_approved'):
    authorize_cmd(arr['rec_authorize_%s_cmd' % n], arr['rec_verify_rsp'])
authorize_cmd(arr['rec_authorize_other_ticket_cmd'], arr['rec_verify_other_rsp'])
print('recording: consistent')

if len(sys.argv) > 1:
    env = dict(os.environ, TPM2TOOLS_TCTI='swtpm:host=127.0.0.1,port=%s' % sys.argv[1])
    run = lambda *a: subprocess.run(a, env=env, check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as d:
        f = lambda n: os.path.join(d, n)
        open(f('ca.pem'), 'wb').write(ca.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        open(f('approved'), 'wb').write(approved)
        open(f('ref'), 'wb').write(REF)
        run('tpm2_loadexternal', '-C', 'o', '-G', 'ecc384:ecdsa-sha384', '-u', f('ca.pem'),
            '-g', 'sha384', '-a', 'sign|userwithauth', '-c', f('ca.ctx'), '-n', f('name'))
        assert open(f('name'), 'rb').read() == name, 'tpm2_loadexternal Name'
        run('tpm2_startauthsession', '-S', f('s.ctx'), '-g', 'sha384')
        run('tpm2_policyauthorize', '-S', f('s.ctx'), '-i', f('approved'), '-q', f('ref'),
            '-n', f('name'), '-L', f('policy'))
        run('tpm2_flushcontext', f('s.ctx'))
        assert open(f('policy'), 'rb').read() == policy, 'tpm2_policyauthorize digest'
    print('tpm2-tools: the same Name and authPolicy')

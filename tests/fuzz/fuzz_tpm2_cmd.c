/*
 * libFuzzer target for the TPM 2.0 response parsers (tcb/tpm2_cmd.c): the
 * whole input as a response to each command, from an odd address in a heap
 * block of exactly its length (ASan catches any overread, UBSan any
 * misaligned load), with a few fixed GetRandom sizes and PCRs. Every
 * accepted response is re-read here from the raw bytes (TPM 2.0 Part 3)
 * and the outputs must match it; a refusal leaves them untouched and says
 * why. The verdict must not depend on the error buffer.
 *
 * Seeds (tests/fuzz/corpus/tpm2_cmd/): responses of swtpm 0.7.1, the AK's
 * CreatePrimary, Quote and FlushContext among them, and those of credential
 * activation (GetCapability of TPM_PT_NV_BUFFER_MAX, NV_ReadPublic and
 * NV_Read of the EK certificate, the EK's CreatePrimary, StartAuthSession,
 * PolicySecret, ActivateCredential).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/tpm2_cmd.h"
#include "fuzz_util.h"

static uint32_t be(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* One parser's call on the input, its arguments and outputs. */
struct call {
	int (*parse)(struct call *c, char *err, size_t err_len);
	const uint8_t *d;
	size_t size;
	uint16_t tag;
	uint32_t pcr, rc, map, attrs;
	uint16_t nv_size;
	size_t want, got;
	uint8_t out[TPM2_BUFFER_MAX + 1];
	struct tpm2_ak ak;
	struct tpm2_quote q;
	struct tpm2_ek ek;
	struct tpm2_policy_session ps;
};

/* The verdict of c, the same with a full, a tiny and no error buffer; the
 * full one says why on refusal and is empty on success. */
static int verdict(struct call *c)
{
	char err[160], tiny[3];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = c->parse(c, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	require(rc == 0 ? err[0] == '\0' : err[0] != '\0');
	require(c->parse(c, tiny, sizeof(tiny)) == rc);
	require(c->parse(c, NULL, 0) == rc);
	return rc;
}

static int call_header(struct call *c, char *err, size_t err_len)
{
	return tpm2_response_header(c->d, c->size, c->tag, &c->rc, err, err_len);
}

static int call_startup(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_startup(c->d, c->size, err, err_len);
}

static int call_get_random(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_get_random(c->d, c->size, c->out, c->want, &c->got,
				     err, err_len);
}

static int call_pcr_banks(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_get_pcr_banks(c->d, c->size, &c->map, err, err_len);
}

static int call_pcr_extend(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_pcr_extend(c->d, c->size, err, err_len);
}

static int call_pcr_read(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_pcr_read_sha384(c->d, c->size, c->pcr, c->out, err,
					  err_len);
}

static int call_create_ak(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_create_ak(c->d, c->size, &c->ak, err, err_len);
}

static int call_quote(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_quote(c->d, c->size, &c->q, err, err_len);
}

static int call_flush(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_flush_context(c->d, c->size, err, err_len);
}

static int call_get_property(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_get_property(c->d, c->size, c->pcr, &c->map, err,
				       err_len);
}

static int call_nv_public(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_nv_read_public(c->d, c->size, c->pcr, &c->nv_size,
					 &c->attrs, err, err_len);
}

static int call_nv_read(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_nv_read(c->d, c->size, c->out, c->want, err, err_len);
}

static int call_create_ek(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_create_ek(c->d, c->size, &c->ek, err, err_len);
}

static int call_session(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_start_policy_session(c->d, c->size, &c->ps, err,
					       err_len);
}

static int call_policy_secret(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_policy_secret(c->d, c->size, err, err_len);
}

static int call_activate(struct call *c, char *err, size_t err_len)
{
	return tpm2_parse_activate_credential(c->d, c->size, c->out, &c->got,
					      err, err_len);
}

/* A call of parse on the input with every output at a marker value. */
static struct call *prepare(int (*parse)(struct call *, char *, size_t),
			    const uint8_t *d, size_t size)
{
	static struct call c;

	c.parse = parse;
	c.d = d;
	c.size = size;
	c.rc = c.map = c.attrs = 0xdeadbeef;
	c.nv_size = 0xdead;
	c.got = 0xdead;
	memset(&c.ek, 0xa5, sizeof(c.ek));
	memset(&c.ps, 0xa5, sizeof(c.ps));
	memset(c.out, 0xa5, sizeof(c.out));
	memset(&c.ak, 0xa5, sizeof(c.ak));
	memset(&c.q, 0xa5, sizeof(c.q));
	return &c;
}

static void header(const uint8_t *d, size_t size)
{
	static const uint16_t tags[] = { TPM2_ST_NO_SESSIONS, TPM2_ST_SESSIONS };

	for (size_t i = 0; i < 2; i++) {
		struct call *c = prepare(call_header, d, size);

		c->tag = tags[i];
		if (verdict(c) != 0) {
			require(c->rc == 0xdeadbeef);
			continue;
		}
		require(size >= TPM2_HEADER_LEN && size <= TPM2_BUFFER_MAX);
		require(be(d + 2, 4) == size && be(d + 6, 4) == c->rc);
		if (c->rc == TPM2_RC_SUCCESS)
			require(be(d, 2) == tags[i]);
		else
			require(size == TPM2_HEADER_LEN &&
				(be(d, 2) == TPM2_ST_NO_SESSIONS ||
				 (be(d, 2) == 0x00c4 && c->rc == 0x01e)));
		require(strlen(tpm2_rc_name(c->rc)) > 0);
	}
}

static void startup(const uint8_t *d, size_t size)
{
	if (verdict(prepare(call_startup, d, size)) == 0)
		require(size == TPM2_HEADER_LEN && be(d, 2) == TPM2_ST_NO_SESSIONS &&
			(be(d + 6, 4) == TPM2_RC_SUCCESS ||
			 be(d + 6, 4) == TPM2_RC_INITIALIZE));
}

static void get_random(const uint8_t *d, size_t size)
{
	static const size_t wants[] = { 0, 1, 32, 64, TPM2_BUFFER_MAX };

	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		struct call *c = prepare(call_get_random, d, size);
		size_t got;

		c->want = wants[i];
		if (verdict(c) != 0) {
			require(c->got == 0xdead && c->out[0] == 0xa5);
			continue;
		}
		got = c->got;
		require(got >= 1 && got <= c->want && size == 12 + got);
		require(be(d + 6, 4) == 0 && be(d + 10, 2) == got);
		require(memcmp(c->out, d + 12, got) == 0 && c->out[got] == 0xa5);
	}
}

/* The SHA-384 bitmap of the TPML_PCR_SELECTION at p, walked here. */
static uint32_t sha384_map(const uint8_t *p, const uint8_t *end)
{
	uint32_t count = be(p, 4), map = 0;

	p += 4;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t n = p[2], bits = 0;

		require(n >= 1 && n <= 4 && p + 3 + n <= end);
		for (uint32_t k = 0; k < n; k++)
			bits |= (uint32_t)p[3 + k] << (8 * k);
		if (be(p, 2) == TPM2_ALG_SHA384)
			map = bits & 0xffffff;
		p += 3 + n;
	}
	require(p == end);
	return map;
}

static void pcr_banks(const uint8_t *d, size_t size)
{
	struct call *c = prepare(call_pcr_banks, d, size);

	if (verdict(c) != 0) {
		require(c->map == 0xdeadbeef);
		return;
	}
	require(size >= 19 && d[10] == 0 && be(d + 11, 4) == 5);
	require(be(d + 15, 4) <= 16);
	require(c->map == sha384_map(d + 15, d + size));
}

static void pcr_extend(const uint8_t *d, size_t size)
{
	static const uint8_t tail[] = { 0, 0, 0, 0, 0, 0 };

	if (verdict(prepare(call_pcr_extend, d, size)) != 0)
		return;
	require(size == 19 && be(d, 2) == TPM2_ST_SESSIONS && be(d + 6, 4) == 0);
	require(memcmp(d + 10, tail, 6) == 0 && d[16] <= 1 &&
		be(d + 17, 2) == 0);
}

static void pcr_read(const uint8_t *d, size_t size)
{
	static const uint32_t pcrs[] = { 0, 7, 12, 23, 24 };

	for (size_t i = 0; i < sizeof(pcrs) / sizeof(pcrs[0]); i++) {
		struct call *c = prepare(call_pcr_read, d, size);
		uint32_t pcr = pcrs[i], n;

		c->pcr = pcr;
		if (verdict(c) != 0) {
			require(c->out[0] == 0xa5 && c->out[47] == 0xa5);
			continue;
		}
		require(pcr < 24 && size > 20);
		n = d[20];
		require(size == 21 + n + 4 + 2 + TPM2_SHA384_LEN);
		require(be(d + 14, 4) == 1 && be(d + 18, 2) == TPM2_ALG_SHA384);
		require(sha384_map(d + 14, d + 21 + n) == 1u << pcr && n <= 4);
		require(be(d + 21 + n, 4) == 1 && be(d + 25 + n, 2) == 48);
		require(memcmp(c->out, d + size - TPM2_SHA384_LEN,
			       TPM2_SHA384_LEN) == 0 && c->out[48] == 0xa5);
	}
}

/* Every byte of an output still at the marker value. */
static int untouched(const void *out, size_t n)
{
	const uint8_t *p = out;

	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xa5)
			return 0;
	return 1;
}

/* The password session's response auth area: the last 5 bytes. */
static int pw_auth_at(const uint8_t *p)
{
	return be(p, 2) == 0 && p[2] <= 1 && be(p + 3, 2) == 0;
}

/* A P-384 integer of n (1..48) bytes at p, left-padded in out. */
static int padded(const uint8_t *out, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < 48 - n; i++)
		if (out[i])
			return 0;
	return n >= 1 && n <= 48 && memcmp(out + 48 - n, p, n) == 0;
}

/* The TPM2B at *p, stepped over (never past end). */
static void skip2b(const uint8_t **p, const uint8_t *end)
{
	require(*p + 2 <= end && *p + 2 + be(*p, 2) <= end);
	*p += 2 + be(*p, 2);
}

static void create_ak(const uint8_t *d, size_t size)
{
	struct call *c = prepare(call_create_ak, d, size);
	uint8_t cmd[TPM2_BUFFER_MAX];
	const uint8_t *p, *end;
	uint32_t xs, ys;

	if (verdict(c) != 0) {
		require(untouched(&c->ak, sizeof(c->ak)));
		return;
	}
	require(size >= 18 + 2 + 24 + 2 + 5 && be(d, 2) == TPM2_ST_SESSIONS);
	require(be(d + 6, 4) == 0 && c->ak.handle == be(d + 10, 4));
	require(d[10] == 0x80 && 18 + be(d + 14, 4) + 5 == size);
	/* The template as built, echoed up to the point. */
	require(tpm2_build_create_ak(cmd, sizeof(cmd)) == 65);
	require(memcmp(d + 20, cmd + 35, 20) == 0);
	xs = be(d + 40, 2);
	ys = be(d + 42 + xs, 2);
	require(be(d + 18, 2) == 24 + xs + ys && c->ak.public_len == 24 + xs + ys);
	require(memcmp(c->ak.public_area, d + 20, c->ak.public_len) == 0);
	require(c->ak.pub[0] == 0x04 && padded(c->ak.pub + 1, d + 42, xs) &&
		padded(c->ak.pub + 49, d + 44 + xs, ys));
	/* creationData, creationHash, creationTicket, name: to the end. */
	p = d + 20 + c->ak.public_len;
	end = d + size - 5;
	skip2b(&p, end);
	skip2b(&p, end);
	p += 6;
	skip2b(&p, end);
	skip2b(&p, end);
	require(p == end && pw_auth_at(end));
}

static void quote(const uint8_t *d, size_t size)
{
	struct call *c = prepare(call_quote, d, size);
	const uint8_t *sig;
	uint32_t n, rl, sl;

	if (verdict(c) != 0) {
		require(untouched(&c->q, sizeof(c->q)));
		return;
	}
	require(size > 16 && be(d, 2) == TPM2_ST_SESSIONS && be(d + 6, 4) == 0);
	require(14 + be(d + 10, 4) + 5 == size && pw_auth_at(d + size - 5));
	n = be(d + 14, 2);
	require(n >= 1 && n <= TPM2_ATTEST_MAX && c->q.attest_len == n);
	require(memcmp(c->q.attest, d + 16, n) == 0);
	if (n < TPM2_ATTEST_MAX)
		require(c->q.attest[n] == 0xa5);
	sig = d + 16 + n;
	require(be(sig, 2) == TPM2_ALG_ECDSA && be(sig + 2, 2) == TPM2_ALG_SHA384);
	rl = be(sig + 4, 2);
	sl = be(sig + 6 + rl, 2);
	require(16 + n + 8 + rl + sl + 5 == size);
	require(padded(c->q.sig, sig + 6, rl) && padded(c->q.sig + 48, sig + 8 + rl, sl));
}

static void flush(const uint8_t *d, size_t size)
{
	if (verdict(prepare(call_flush, d, size)) == 0)
		require(size == TPM2_HEADER_LEN && be(d, 2) == TPM2_ST_NO_SESSIONS &&
			be(d + 6, 4) == TPM2_RC_SUCCESS);
}

static void get_property(const uint8_t *d, size_t size)
{
	static const uint32_t props[] = { TPM2_PT_NV_BUFFER_MAX, 0x12d };

	for (size_t i = 0; i < 2; i++) {
		struct call *c = prepare(call_get_property, d, size);

		c->pcr = props[i];
		if (verdict(c) != 0) {
			require(c->map == 0xdeadbeef);
			continue;
		}
		require(size == 27 && be(d, 2) == TPM2_ST_NO_SESSIONS &&
			be(d + 6, 4) == 0 && d[10] <= 1);
		require(be(d + 11, 4) == 6 && be(d + 15, 4) == 1 &&
			be(d + 19, 4) == props[i] && c->map == be(d + 23, 4));
	}
}

/* The digest size of a nameAlg NV_ReadPublic may carry, 0 otherwise. */
static uint32_t hash_len(uint32_t alg)
{
	return alg == 0x0004 ? 20 : alg == 0x000b ? 32 : alg == 0x000c ? 48 :
	       alg == 0x000d ? 64 : 0;
}

static void nv_public(const uint8_t *d, size_t size)
{
	static const uint32_t idx[] = { TPM2_NV_EK_CERT_RSA, TPM2_NV_EK_CERT_ECC };

	for (size_t i = 0; i < 2; i++) {
		struct call *c = prepare(call_nv_public, d, size);
		uint32_t n, alg, pol, h;

		c->pcr = idx[i];
		if (verdict(c) != 0) {
			require(c->nv_size == 0xdead && c->attrs == 0xdeadbeef);
			continue;
		}
		require(size >= 26 && be(d, 2) == TPM2_ST_NO_SESSIONS &&
			be(d + 6, 4) == 0 && be(d + 12, 4) == idx[i]);
		n = be(d + 10, 2);
		alg = be(d + 16, 2);
		pol = be(d + 22, 2);
		h = hash_len(alg);
		require(h && (pol == 0 || pol == h) && n == 14 + pol);
		require(c->attrs == be(d + 18, 4) && c->nv_size == be(d + 24 + pol, 2));
		require(be(d + 12 + n, 2) == 2 + h && be(d + 14 + n, 2) == alg);
		require(size == 14 + n + 2 + h);
	}
}

static void nv_read(const uint8_t *d, size_t size)
{
	/* 16 and 32: the seeds' chunks; 1016: swtpm's whole EK certificate. */
	static const size_t wants[] = { 0, 1, 16, 32, 1016, TPM2_NV_READ_MAX,
					TPM2_NV_READ_MAX + 1 };

	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		struct call *c = prepare(call_nv_read, d, size);
		size_t want = wants[i];

		c->want = want;
		if (verdict(c) != 0) {
			require(c->out[0] == 0xa5);
			continue;
		}
		require(want >= 1 && want <= TPM2_NV_READ_MAX);
		require(size == 16 + want + 5 && be(d, 2) == TPM2_ST_SESSIONS &&
			be(d + 6, 4) == 0 && be(d + 10, 4) == 2 + want &&
			be(d + 14, 2) == want && pw_auth_at(d + size - 5));
		require(memcmp(c->out, d + 16, want) == 0 && c->out[want] == 0xa5);
	}
}

static void create_ek(const uint8_t *d, size_t size)
{
	struct call *c = prepare(call_create_ek, d, size);
	uint8_t cmd[TPM2_BUFFER_MAX];
	const uint8_t *p, *end;

	if (verdict(c) != 0) {
		require(untouched(&c->ek, sizeof(c->ek)));
		return;
	}
	require(size >= 20 + TPM2_EK_PUBLIC_LEN + 16 && be(d, 2) == TPM2_ST_SESSIONS);
	require(be(d + 6, 4) == 0 && c->ek.handle == be(d + 10, 4) && d[10] == 0x80);
	require(18 + be(d + 14, 4) + 5 == size && be(d + 18, 2) == TPM2_EK_PUBLIC_LEN);
	/* The template as built, echoed up to the modulus. */
	require(tpm2_build_create_ek(cmd, sizeof(cmd)) == 355);
	require(memcmp(d + 20, cmd + 35, TPM2_EK_PUBLIC_LEN - 256) == 0);
	require(memcmp(c->ek.public_area, d + 20, TPM2_EK_PUBLIC_LEN) == 0);
	require(memcmp(c->ek.modulus, d + 78, 256) == 0 && d[78] & 0x80);
	p = d + 20 + TPM2_EK_PUBLIC_LEN;
	end = d + size - 5;
	skip2b(&p, end);
	skip2b(&p, end);
	p += 6;
	skip2b(&p, end);
	skip2b(&p, end);
	require(p == end && pw_auth_at(end));
}

static void start_session(const uint8_t *d, size_t size)
{
	struct call *c = prepare(call_session, d, size);

	if (verdict(c) != 0) {
		require(untouched(&c->ps, sizeof(c->ps)));
		return;
	}
	require(size == 32 && be(d, 2) == TPM2_ST_NO_SESSIONS && be(d + 6, 4) == 0);
	require(d[10] == 0x03 && c->ps.handle == be(d + 10, 4) &&
		be(d + 14, 2) == TPM2_NONCE_LEN);
	require(memcmp(c->ps.nonce_tpm, d + 16, TPM2_NONCE_LEN) == 0);
}

static void policy_secret(const uint8_t *d, size_t size)
{
	uint32_t t, g;

	if (verdict(prepare(call_policy_secret, d, size)) != 0)
		return;
	require(size >= 29 && be(d, 2) == TPM2_ST_SESSIONS && be(d + 6, 4) == 0);
	t = be(d + 14, 2);
	require(t <= 8 && be(d + 16 + t, 2) == 0x8023);
	g = be(d + 22 + t, 2);
	require(g <= 64 && be(d + 10, 4) == 2 + t + 8 + g);
	require(size == 14 + 2 + t + 8 + g + 5 && pw_auth_at(d + size - 5));
}

static void activate(const uint8_t *d, size_t size)
{
	struct call *c = prepare(call_activate, d, size);
	const uint8_t *p;
	uint32_t n;

	if (verdict(c) != 0) {
		require(c->got == 0xdead && c->out[0] == 0xa5);
		return;
	}
	require(size > 16 && be(d, 2) == TPM2_ST_SESSIONS && be(d + 6, 4) == 0);
	n = be(d + 14, 2);
	require(n >= 1 && n <= TPM2_DIGEST_MAX && be(d + 10, 4) == 2 + n);
	require(c->got == n && memcmp(c->out, d + 16, n) == 0 && c->out[n] == 0xa5);
	/* Two auth areas: the password session's, the policy session's. */
	require(size == 16 + n + 5 + 2 + TPM2_NONCE_LEN + 3);
	p = d + 16 + n;
	require(pw_auth_at(p));
	p += 5;
	require(be(p, 2) == TPM2_NONCE_LEN && p[18] == 0 && be(p + 19, 2) == 0);
}

/* The builders with the input's first bytes as their arguments. */
static void builders(const uint8_t *d, size_t size)
{
	struct input in = { d, size };
	uint8_t buf[TPM2_BUFFER_MAX], digest[TPM2_QUALIFYING_MAX] = { 0 };
	static const uint8_t blob[TPM2_RSA2048_LEN];
	size_t cap = (size_t)take(&in, 1);
	uint32_t pcr = (uint32_t)take(&in, 4);
	uint16_t n = (uint16_t)take(&in, 2);
	size_t len;

	len = tpm2_build_pcr_extend_sha384(buf, cap, pcr, digest);
	require(len == (cap >= 81 && pcr < 24 ? 81 : 0));
	len = tpm2_build_pcr_read_sha384(buf, cap, pcr);
	require(len == (cap >= 20 && pcr < 24 ? 20 : 0));
	len = tpm2_build_get_random(buf, cap, n);
	require(len == (cap >= 12 && n ? 12 : 0));
	require(len == 0 || be(buf + 10, 2) == n);
	len = tpm2_build_create_ak(buf, cap);
	require(len == (cap >= 65 ? 65 : 0));
	len = tpm2_build_flush_context(buf, cap, pcr);
	require(len == (cap >= 14 ? 14 : 0));
	require(len == 0 || be(buf + 10, 4) == pcr);
	len = tpm2_build_get_property(buf, cap, pcr);
	require(len == (cap >= 22 ? 22 : 0));
	require(len == 0 || be(buf + 14, 4) == pcr);
	len = tpm2_build_nv_read_public(buf, cap, pcr);
	require(len == (cap >= 14 && pcr >> 24 == 1 ? 14 : 0));
	/* pcr's halves as the size and the offset. */
	len = tpm2_build_nv_read(buf, cap, 0x01000000 | n, (uint16_t)(pcr >> 16),
				 (uint16_t)pcr);
	require(len == (cap >= 35 && pcr >> 16 && pcr >> 16 <= TPM2_NV_READ_MAX &&
			(pcr >> 16) + (pcr & 0xffff) <= 0xffff ? 35 : 0));
	require(len == 0 || (be(buf + 10, 4) == be(buf + 14, 4) &&
			     be(buf + 31, 4) == pcr));
	len = tpm2_build_create_ek(buf, cap);
	require(len == (cap >= 355 ? 355 : 0));
	len = tpm2_build_start_policy_session(buf, cap, digest);
	require(len == (cap >= 43 ? 43 : 0));
	len = tpm2_build_policy_secret_endorsement(buf, cap, pcr);
	require(len == (cap >= 41 && pcr >> 24 == 3 ? 41 : 0));
	require(len == 0 || be(buf + 14, 4) == pcr);
	/* n's bytes as the blob's and the secret's lengths. */
	len = tpm2_build_activate_credential(buf, cap, 0x80000000, 0x80000001,
					     pcr, blob, n >> 8, blob, n & 0xff);
	require(len == (cap >= 44u + (n >> 8) + (n & 0xff) && pcr >> 24 == 3 &&
			n >> 8 >= 1 && n >> 8 <= TPM2_ID_OBJECT_MAX && (n & 0xff) >= 1 ?
			44u + (n >> 8) + (n & 0xff) : 0));
	/* pcr as the PCR mask, n's low byte as the qualifying length. */
	n &= 0x7f;
	len = tpm2_build_quote(buf, cap, 0x80000000, digest, n, pcr);
	require(len == (cap >= 41u + n && n <= 64 && pcr && pcr < 1u << 24 ?
			41u + n : 0));
	if (len == 0)
		return;
	require(be(buf + 27, 2) == n);
	for (size_t i = 0; i < 3; i++) /* pcrSelect: PCR i is bit i % 8 of byte i / 8 */
		require(buf[len - 3 + i] == (uint8_t)(pcr >> (8 * i)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size + 1);

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	header(block + 1, size);
	startup(block + 1, size);
	get_random(block + 1, size);
	pcr_banks(block + 1, size);
	pcr_extend(block + 1, size);
	pcr_read(block + 1, size);
	create_ak(block + 1, size);
	quote(block + 1, size);
	flush(block + 1, size);
	get_property(block + 1, size);
	nv_public(block + 1, size);
	nv_read(block + 1, size);
	create_ek(block + 1, size);
	start_session(block + 1, size);
	policy_secret(block + 1, size);
	activate(block + 1, size);
	builders(block + 1, size);
	free(block);
	return 0;
}

/*
 * Tests of the tenant protocol codec (wire/proto.c, docs/protocol.md):
 * header layout, round trips of every type at its limits (the VM messages
 * too), every rejection with its message (VM names, CREATE fields and
 * secrets, UPLOAD, INFO records), the name and secrets helpers, truncation against guard pages, the encoders' refusals
 * and error-text sanitising, and the stream reader fed byte by byte, in
 * random chunks, two messages in one feed, and hostile headers (rejected
 * as soon as the header is complete, never waiting for the body).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/guest_abi.h>
#include <custos/proto.h>
#include <custos/report.h>
#include "guarded.h"
#include "xorshift.h"

static char err[256];
static struct proto_msg msg;

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Byte offsets of the VM bodies, from docs/protocol.md (not offsetof). */
enum {
	CR_NAME = 0, CR_MEM = 32, CR_IMAGE = 40, CR_INIT = 48, CR_SLEN = 56,
	CR_RESERVED = 60, CR_SALT = 64, CR_BOOT = 96, CR_CLEN = 100, CR_INITRD = 104, CR_SIZE = 112,
	UP_NAME = 0, UP_PART = 32, UP_RESERVED = 36, UP_OFFSET = 40, UP_SIZE = 48,
	IN_NAME = 0, IN_STATE = 32, IN_FLAGS = 36, IN_MEM = 40, IN_VERSION = 48,
	IN_IMAGE_LEN = 56, IN_IMAGE_RCV = 64, IN_INIT_LEN = 72, IN_INIT_RCV = 80,
	IN_MEAS = 88, IN_REASON = 136, IN_INITRD_LEN = 200, IN_INITRD_RCV = 208, IN_SIZE = 216,
};

static void put_name(uint8_t *p, const char *name)
{
	memset(p, 0, 32);
	memcpy(p, name, strlen(name));
}

/* Fill p with slen bytes of valid secrets (slen 0 or >= 3): entries
 * "Knnn=vvv...\0" of 1006 bytes, then one "Z=vvv\0" with the rest. */
static void fill_secrets(uint8_t *p, size_t slen, unsigned seed)
{
	size_t at = 0;
	unsigned k = 0;

	assert_true(slen == 0 || slen >= 3);
	while (at < slen) {
		size_t rem = slen - at, n = rem > 1027 ? 1006 : rem;
		size_t klen = rem > 1027 ? 4 : 1;

		if (klen == 4) {
			p[at] = 'K';
			p[at + 1] = (uint8_t)('0' + k / 100 % 10);
			p[at + 2] = (uint8_t)('0' + k / 10 % 10);
			p[at + 3] = (uint8_t)('0' + k % 10);
			k++;
		} else {
			p[at] = 'Z';
		}
		p[at + klen] = '=';
		for (size_t i = at + klen + 1; i < at + n - 1; i++)
			p[i] = (uint8_t)(0x20 + (seed + i) % 95);
		p[at + n - 1] = 0;
		at += n;
	}
}

static void fill_create(uint8_t *b, const char *name, uint64_t mem,
			uint64_t image, uint64_t init, uint32_t slen)
{
	memset(b, 0, CR_SIZE);
	put_name(b + CR_NAME, name);
	put64(b + CR_MEM, mem);
	put64(b + CR_IMAGE, image);
	put64(b + CR_INIT, init);
	put32(b + CR_SLEN, slen);
	for (int i = 0; i < 32; i++)
		b[CR_SALT + i] = (uint8_t)(0xa0 + i);
}

static void fill_info(uint8_t *r, const char *name, uint32_t state,
		      const char *reason, unsigned seed)
{
	memset(r, 0, IN_SIZE);
	put_name(r + IN_NAME, name);
	put32(r + IN_STATE, state);
	put64(r + IN_MEM, 64ull << 20);
	put64(r + IN_VERSION, seed);
	put64(r + IN_IMAGE_LEN, 5000);
	put64(r + IN_IMAGE_RCV, 4096);
	put64(r + IN_INIT_LEN, 100);
	put64(r + IN_INIT_RCV, 0);
	for (int i = 0; i < 48; i++)
		r[IN_MEAS + i] = (uint8_t)(seed + i);
	memcpy(r + IN_REASON, reason, strlen(reason));
}

static bool is_vm_name_type(uint16_t type)
{
	return type > PROTO_VM_START && type <= PROTO_VM_CONSOLE &&
	       type != PROTO_VM_LIST;
}

/* A raw header, written by hand (not by the code under test). */
static void raw_header(uint8_t *h, uint32_t len, uint16_t type, uint16_t reserved)
{
	put32(h, len);
	h[4] = (uint8_t)type;
	h[5] = (uint8_t)(type >> 8);
	h[6] = (uint8_t)reserved;
	h[7] = (uint8_t)(reserved >> 8);
}

static uint8_t body_byte(size_t i, unsigned seed)
{
	return (uint8_t)(seed * 13 + i * 7 + (i >> 8));
}

static uint8_t last_body[PROTO_MAX_BODY]; /* the last body make_msg() encoded */

/* A valid message of the given type and body length into buf; its size. */
static size_t make_msg(uint8_t *buf, size_t cap, uint16_t type, size_t blen,
		       unsigned seed)
{
	size_t n;
	char name[32];

	assert_true(blen <= sizeof(last_body));
	for (size_t i = 0; i < blen; i++)
		last_body[i] = body_byte(i, seed);
	snprintf(name, sizeof(name), "vm-%u_x", seed);
	if (type == PROTO_ERROR) {
		assert_true(blen >= 4);
		put32(last_body, 1 + seed % 11);
		for (size_t i = 4; i < blen; i++)
			last_body[i] = (uint8_t)(0x20 + (seed + i) % 95);
	} else if (type == PROTO_VM_CREATE) {
		assert_true(blen >= CR_SIZE);
		fill_create(last_body, name, (2ull << 20) * (1 + seed % 512),
			    1 + seed * 4099 % (8u << 20), seed * 77 % (1u << 20),
			    (uint32_t)(blen - CR_SIZE));
		fill_secrets(last_body + CR_SIZE, blen - CR_SIZE, seed);
	} else if (type == PROTO_VM_UPLOAD) {
		assert_true(blen > UP_SIZE);
		memset(last_body, 0, UP_SIZE);
		put_name(last_body, name);
		put32(last_body + UP_PART, 1 + seed % 2);
		put64(last_body + UP_OFFSET, (uint64_t)seed * PROTO_CHUNK_MAX);
	} else if (type == PROTO_VM_START) {
		assert_int_equal(blen, 40);
		memset(last_body, 0, blen);
		put_name(last_body, name);
		put32(last_body + 32, seed % 3);
	} else if (is_vm_name_type(type)) {
		assert_int_equal(blen, 32);
		put_name(last_body, name);
	} else if (type == PROTO_VM_INFO) {
		assert_int_equal(blen % IN_SIZE, 0);
		for (size_t r = 0; r < blen / IN_SIZE; r++) {
			snprintf(name, sizeof(name), "vm%zu", r + seed);
			fill_info(last_body + r * IN_SIZE, name, (uint32_t)((r + seed) % 6),
				  r % 2 ? "HC_EXIT 3" : "", (unsigned)r);
		}
	}
	n = proto_encode(type, last_body, blen, buf, cap);
	assert_int_equal(n, PROTO_HDR_LEN + blen);
	return n;
}

/* proto_parse must refuse buf with a message containing needle, leaving
 * msg untouched. */
static void reject(const uint8_t *buf, size_t len, const char *needle)
{
	struct proto_msg sentinel;

	memset(&msg, 0xa5, sizeof(msg));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	memset(err, 'x', sizeof(err));
	if (proto_parse(buf, len, &msg, err, sizeof(err)) != -1)
		fail_msg("accepted; expected \"%s\"", needle);
	assert_non_null(memchr(err, 0, sizeof(err)));
	assert_null(strchr(err, '\n'));
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	assert_memory_equal(&msg, &sentinel, sizeof(msg));
}

static void reject_header(uint32_t len, uint16_t type, uint16_t reserved,
			  const char *needle)
{
	static uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_BODY + 16];
	uint16_t t = 0x5a5a;
	uint32_t l = 0x5a5a5a5a;

	raw_header(buf, len, type, reserved);
	memset(err, 'x', sizeof(err));
	assert_int_equal(proto_parse_header(buf, &t, &l, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("header: message \"%s\" lacks \"%s\"", err, needle);
	assert_int_equal(t, 0x5a5a);
	assert_int_equal(l, 0x5a5a5a5a);
	/* The whole message (with a body of that length where it fits) is
	 * refused for the same reason. */
	if (len <= PROTO_MAX_BODY + 16) {
		memset(buf + PROTO_HDR_LEN, 'a', len);
		put32(buf + PROTO_HDR_LEN, PROTO_ERR_BUSY);
		reject(buf, PROTO_HDR_LEN + len, needle);
	}
}

/* ---- Layout and round trips ---------------------------------------------- */

static void test_header_layout(void **state)
{
	uint8_t h[PROTO_HDR_LEN];
	uint16_t type;
	uint32_t len;
	static const uint8_t want[PROTO_HDR_LEN] = { 0x40, 0x00, 0x00, 0x00,
						     0x01, 0x00, 0x00, 0x00 };

	(void)state;
	proto_write_header(h, PROTO_ATTEST_REQ, 64);
	assert_memory_equal(h, want, sizeof(want));
	proto_write_header(h, 0x1234, 0x01020304);
	assert_int_equal(h[0], 0x04);
	assert_int_equal(h[3], 0x01);
	assert_int_equal(h[4], 0x34);
	assert_int_equal(h[5], 0x12);
	assert_int_equal(h[6] | h[7], 0);
	proto_write_header(h, PROTO_ATTEST_RESP, REPORT_MAX_SIZE);
	memset(err, 'x', sizeof(err));
	assert_int_equal(proto_parse_header(h, &type, &len, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(type, PROTO_ATTEST_RESP);
	assert_int_equal(len, REPORT_MAX_SIZE);
}

static void round_trip(uint16_t type, size_t blen, unsigned seed)
{
	static uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_BODY];
	size_t n = make_msg(buf, sizeof(buf), type, blen, seed);

	assert_int_equal(buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24,
			 blen);
	assert_int_equal(buf[4] | buf[5] << 8, type);
	assert_int_equal(buf[6] | buf[7], 0);
	memset(err, 'x', sizeof(err));
	if (proto_parse(buf, n, &msg, err, sizeof(err)) != 0)
		fail_msg("type %u, %zu bytes refused: %s", type, blen, err);
	assert_string_equal(err, "");
	assert_int_equal(msg.type, type);
	assert_int_equal(msg.len, blen);
	assert_ptr_equal(msg.body, buf + PROTO_HDR_LEN);
	assert_memory_equal(msg.body, last_body, blen);
	/* Decoded through the structs, little-endian host. */
	if (type == PROTO_VM_CREATE) {
		struct proto_vm_create c;

		memcpy(&c, msg.body, sizeof(c));
		assert_true(proto_vm_name_ok(c.name));
		assert_int_equal(c.secrets_len, blen - sizeof(c));
		assert_int_equal(c.mem_size % (2u << 20), 0);
		assert_int_equal(c.salt[31], 0xa0 + 31);
	} else if (type == PROTO_VM_INFO && blen) {
		struct proto_vm_info info;

		memcpy(&info, msg.body + blen - sizeof(info), sizeof(info));
		assert_true(proto_vm_name_ok(info.name));
		assert_int_equal(info.image_len, 5000);
		assert_int_equal(info.image_received, 4096);
		assert_int_equal(info.init_len, 100);
	}
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trip(PROTO_ATTEST_REQ, REPORT_NONCE_MIN, 1);
	round_trip(PROTO_ATTEST_REQ, 48, 2);
	round_trip(PROTO_ATTEST_REQ, REPORT_NONCE_MAX, 3);
	round_trip(PROTO_ATTEST_RESP, 1, 4);
	round_trip(PROTO_ATTEST_RESP, 3000, 5);
	round_trip(PROTO_ATTEST_RESP, REPORT_MAX_SIZE, 6);
	round_trip(PROTO_ERROR, 4, 7);
	round_trip(PROTO_ERROR, 4 + 17, 8);
	round_trip(PROTO_ERROR, 4 + PROTO_ERROR_TEXT_MAX, 9);
}

static void test_vm_round_trips(void **state)
{
	static const uint16_t named[] = { PROTO_VM_STOP, PROTO_VM_DESTROY,
					  PROTO_VM_STATUS, PROTO_VM_CONSOLE };

	(void)state;
	for (unsigned mode = 0; mode < 3; mode++)
		round_trip(PROTO_VM_START, 40, mode);
	round_trip(PROTO_VM_CREATE, CR_SIZE, 1);
	round_trip(PROTO_VM_CREATE, CR_SIZE + 3, 2);
	round_trip(PROTO_VM_CREATE, CR_SIZE + 1027, 3);
	round_trip(PROTO_VM_CREATE, CR_SIZE + 2000, 4);
	round_trip(PROTO_VM_CREATE, CR_SIZE + PROTO_SECRETS_MAX, 5);
	round_trip(PROTO_VM_UPLOAD, 48 + 1, 6);
	round_trip(PROTO_VM_UPLOAD, 48 + 4096, 7);
	round_trip(PROTO_VM_UPLOAD, 48 + PROTO_CHUNK_MAX, 8);
	for (size_t i = 0; i < ARRAY_SIZE(named); i++)
		round_trip(named[i], 32, (unsigned)i);
	round_trip(PROTO_VM_LIST, 0, 9);
	round_trip(PROTO_WAIT, 0, 12);
	round_trip(PROTO_VM_INFO, 0, 10);
	round_trip(PROTO_VM_INFO, IN_SIZE, 11);
	round_trip(PROTO_VM_INFO, 3 * IN_SIZE, 12);
	round_trip(PROTO_VM_INFO, PROTO_VM_LIST_MAX * IN_SIZE, 13);
	round_trip(PROTO_VM_CONSOLE_DATA, 0, 14);
	round_trip(PROTO_VM_CONSOLE_DATA, 1, 15);
	round_trip(PROTO_VM_CONSOLE_DATA, PROTO_CHUNK_MAX, 16);
}

static void test_vm_layouts(void **state)
{
	struct proto_vm_create c;
	struct proto_vm_upload u;
	struct proto_vm_info info;
	uint8_t want[IN_SIZE];

	(void)state;
	assert_int_equal(sizeof(struct proto_vm_name), 32);
	assert_int_equal(sizeof(c), CR_SIZE);
	assert_int_equal(sizeof(u), UP_SIZE);
	assert_int_equal(sizeof(info), IN_SIZE);
	assert_int_equal(offsetof(struct proto_vm_create, secrets_len), CR_SLEN);
	assert_int_equal(offsetof(struct proto_vm_upload, offset), UP_OFFSET);
	assert_int_equal(offsetof(struct proto_vm_info, init_received), IN_INIT_RCV);
	assert_int_equal(offsetof(struct proto_vm_info, stop_reason), IN_REASON);
	/* The struct, filled by field, is the bytes written by hand. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(proto_vm_name_set(c.name, "web-1"), 0);
	c.mem_size = 64u << 20;
	c.image_len = 12345;
	c.init_len = 7;
	c.secrets_len = 0;
	for (int i = 0; i < 32; i++)
		c.salt[i] = (uint8_t)(0xa0 + i);
	fill_create(want, "web-1", 64u << 20, 12345, 7, 0);
	assert_memory_equal(&c, want, CR_SIZE);
	memset(&u, 0, sizeof(u));
	assert_int_equal(proto_vm_name_set(u.name, "a"), 0);
	u.part = PROTO_PART_INIT_DATA;
	u.offset = 0x0102030405060708ull;
	memset(want, 0, sizeof(want));
	want[0] = 'a';
	want[UP_PART] = 2;
	put64(want + UP_OFFSET, 0x0102030405060708ull);
	assert_memory_equal(&u, want, UP_SIZE);
}

static void test_error_round_trip(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX];
	static const uint32_t codes[] = {
		PROTO_ERR_BAD_REQUEST, PROTO_ERR_INTERNAL, PROTO_ERR_BUSY,
		PROTO_ERR_NOT_FOUND, PROTO_ERR_EXISTS, PROTO_ERR_NO_MEMORY,
		PROTO_ERR_STATE, PROTO_ERR_VERIFY, PROTO_ERR_ROLLBACK,
		PROTO_ERR_STORAGE, PROTO_ERR_TOO_LARGE,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		size_t n = proto_encode_error(codes[i], "no such VM: ~x", buf,
					      sizeof(buf));

		assert_int_equal(n, PROTO_HDR_LEN + 4 + 14);
		assert_int_equal(proto_parse(buf, n, &msg, err, sizeof(err)), 0);
		assert_int_equal(msg.type, PROTO_ERROR);
		assert_int_equal(msg.body[0], codes[i]);
		assert_int_equal(msg.body[1] | msg.body[2] | msg.body[3], 0);
		assert_memory_equal(msg.body + 4, "no such VM: ~x", 14);
	}
}

/* ---- Rejections ------------------------------------------------------------ */

static void test_reject_type(void **state)
{
	(void)state;
	reject_header(40, 9, 0, "unknown message type 9");
	reject_header(40, 0, 0, "unknown message type 0");
	reject_header(40, 4, 0, "unknown message type 4");
	reject_header(40, 0x0f, 0, "unknown message type 15");
	reject_header(32, 0x19, 0, "unknown message type 25");
	reject_header(32, 0x1f, 0, "unknown message type 31");
	reject_header(0, 0x24, 0, "unknown message type 36");
	reject_header(32, 0x1012, 0, "unknown message type 4114");
	reject_header(40, 0x0101, 0, "unknown message type 257");
	reject_header(40, 0xffff, 0, "unknown message type 65535");
}

static void test_reject_reserved(void **state)
{
	(void)state;
	reject_header(40, PROTO_ATTEST_REQ, 1,
		      "reserved header field is 0x0001 (must be 0)");
	reject_header(40, PROTO_ATTEST_REQ, 0x8000,
		      "reserved header field is 0x8000 (must be 0)");
	reject_header(5, PROTO_ERROR, 0x0100, "reserved header field is 0x0100");
	reject_header(1, PROTO_ATTEST_RESP, 0xffff, "reserved header field is 0xffff");
}

static void test_reject_lengths(void **state)
{
	(void)state;
	reject_header(12, PROTO_ATTEST_REQ, 0, "nonce of 12 bytes (want 32..64)");
	reject_header(0, PROTO_ATTEST_REQ, 0, "nonce of 0 bytes (want 32..64)");
	reject_header(31, PROTO_ATTEST_REQ, 0, "nonce of 31 bytes (want 32..64)");
	reject_header(65, PROTO_ATTEST_REQ, 0, "nonce of 65 bytes (want 32..64)");
	reject_header(0xffffffffu, PROTO_ATTEST_REQ, 0,
		      "nonce of 4294967295 bytes (want 32..64)");
	reject_header(0, PROTO_ATTEST_RESP, 0, "report of 0 bytes (want 1..65536)");
	reject_header(REPORT_MAX_SIZE + 1, PROTO_ATTEST_RESP, 0,
		      "report of 65537 bytes (want 1..65536)");
	reject_header(0x80000000u, PROTO_ATTEST_RESP, 0,
		      "report of 2147483648 bytes");
	reject_header(3, PROTO_ERROR, 0, "error body of 3 bytes (want 4..204)");
	reject_header(0, PROTO_ERROR, 0, "error body of 0 bytes (want 4..204)");
	reject_header(205, PROTO_ERROR, 0, "error body of 205 bytes (want 4..204)");
}

static void test_reject_vm_lengths(void **state)
{
	static const struct {
		uint16_t type;
		const char *what;
	} named[] = {
		{ PROTO_VM_STOP, "VM_STOP" },
		{ PROTO_VM_DESTROY, "VM_DESTROY" }, { PROTO_VM_STATUS, "VM_STATUS" },
		{ PROTO_VM_CONSOLE, "VM_CONSOLE" },
	};
	static const uint32_t bad[] = { 0, 1, 31, 33, 64, 0xffffffffu };
	char want[CR_SIZE];

	(void)state;
	reject_header(111, PROTO_VM_CREATE, 0,
		      "VM_CREATE body of 111 bytes (want 112..6256)");
	reject_header(0, PROTO_VM_CREATE, 0,
		      "VM_CREATE body of 0 bytes (want 112..6256)");
	reject_header(6257, PROTO_VM_CREATE, 0,
		      "VM_CREATE body of 6257 bytes (want 112..6256)");
	reject_header(48, PROTO_VM_UPLOAD, 0,
		      "VM_UPLOAD body of 48 bytes (want 49..12336)");
	reject_header(12337, PROTO_VM_UPLOAD, 0,
		      "VM_UPLOAD body of 12337 bytes (want 49..12336)");
	reject_header(0x80000000u, PROTO_VM_UPLOAD, 0,
		      "VM_UPLOAD body of 2147483648 bytes (want 49..12336)");
	for (size_t i = 0; i < ARRAY_SIZE(named); i++)
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			snprintf(want, sizeof(want), "%s body of %u bytes (want 32)",
				 named[i].what, bad[j]);
			reject_header(bad[j], named[i].type, 0, want);
		}
	static const uint32_t bad_start[] = { 0, 32, 39, 41, 0xffffffffu };
	for (size_t j = 0; j < ARRAY_SIZE(bad_start); j++) {
		snprintf(want, sizeof(want), "VM_START body of %u bytes (want 40)",
			 bad_start[j]);
		reject_header(bad_start[j], PROTO_VM_START, 0, want);
	}
	reject_header(1, PROTO_VM_LIST, 0, "VM_LIST body of 1 bytes (want 0)");
	reject_header(1, PROTO_WAIT, 0, "WAIT body of 1 bytes (want 0)");
	reject_header(32, PROTO_VM_LIST, 0, "VM_LIST body of 32 bytes (want 0)");
	reject_header(1, PROTO_VM_INFO, 0,
		      "VM_INFO body of 1 bytes (want a multiple of 216, 0..3456)");
	reject_header(215, PROTO_VM_INFO, 0,
		      "VM_INFO body of 215 bytes (want a multiple of 216, 0..3456)");
	reject_header(217, PROTO_VM_INFO, 0,
		      "VM_INFO body of 217 bytes (want a multiple of 216, 0..3456)");
	reject_header(3672, PROTO_VM_INFO, 0,
		      "VM_INFO body of 3672 bytes (want a multiple of 216, 0..3456)");
	reject_header(12289, PROTO_VM_CONSOLE_DATA, 0,
		      "VM_CONSOLE_DATA body of 12289 bytes (want 0..12288)");
	reject_header(32, PROTO_VM_CONSOLE_INPUT, 0,
		      "VM_CONSOLE_INPUT body of 32 bytes (want 33..1056)");
	reject_header(1057, PROTO_VM_CONSOLE_INPUT, 0,
		      "VM_CONSOLE_INPUT body of 1057 bytes (want 33..1056)");
	reject_header(3, PROTO_VM_INPUT_TAKEN, 0,
		      "VM_INPUT_TAKEN body of 3 bytes (want 4)");
	reject_header(5, PROTO_VM_INPUT_TAKEN, 0,
		      "VM_INPUT_TAKEN body of 5 bytes (want 4)");
	reject_header(40, PROTO_VM_START, 1, "reserved header field is 0x0001");
	reject_header(0, PROTO_VM_LIST, 0x0200, "reserved header field is 0x0200");
}

/* Encode type with body b of len bytes, bypassing the encoder's checks. */
static size_t raw_msg(uint8_t *buf, uint16_t type, const uint8_t *b, size_t len)
{
	raw_header(buf, (uint32_t)len, type, 0);
	memcpy(buf + PROTO_HDR_LEN, b, len);
	return PROTO_HDR_LEN + len;
}

/* The body b (len bytes) of type is refused with needle, by proto_parse,
 * by the encoder, and by the reader once the body is complete. */
static void reject_body(uint16_t type, const uint8_t *b, size_t len,
			const char *needle)
{
	static uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_BODY], rbuf[PROTO_HDR_LEN + PROTO_MAX_BODY];
	struct proto_reader r;
	size_t n = raw_msg(buf, type, b, len), used;

	reject(buf, n, needle);
	assert_int_equal(proto_encode(type, b, len, rbuf, sizeof(rbuf)), 0);
	proto_reader_init(&r, rbuf, sizeof(rbuf));
	assert_int_equal(proto_reader_feed(&r, buf, n, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, n);
	if (!strstr(err, needle))
		fail_msg("reader: message \"%s\" lacks \"%s\"", err, needle);
}

/* Every name rule, in a name field at off of a body of type. */
static void reject_names(uint16_t type, uint8_t *b, size_t len, size_t off,
			 const char *pre)
{
	char want[160];
	uint8_t saved[32];

	memcpy(saved, b + off, 32);
	memset(b + off, 'a', 32);
	snprintf(want, sizeof(want), "%sVM name is not NUL-terminated within 32 bytes", pre);
	reject_body(type, b, len, want);
	memset(b + off, 0, 32);
	snprintf(want, sizeof(want), "%sVM name is empty (want 1..31 bytes)", pre);
	reject_body(type, b, len, want);
	b[off + 31] = 'x'; /* empty, padding not zero: still "empty" */
	reject_body(type, b, len, want);
	put_name(b + off, "abC");
	snprintf(want, sizeof(want),
		 "%sVM name byte 2 is 0x43 (want a-z, 0-9, _ or -)", pre);
	reject_body(type, b, len, want);
	put_name(b + off, "a.b");
	snprintf(want, sizeof(want), "%sVM name byte 1 is 0x2e", pre);
	reject_body(type, b, len, want);
	put_name(b + off, "a b");
	snprintf(want, sizeof(want), "%sVM name byte 1 is 0x20", pre);
	reject_body(type, b, len, want);
	put_name(b + off, "x/");
	snprintf(want, sizeof(want), "%sVM name byte 1 is 0x2f", pre);
	reject_body(type, b, len, want);
	put_name(b + off, "ok");
	b[off + 0] = 0xc3;
	snprintf(want, sizeof(want), "%sVM name byte 0 is 0xc3", pre);
	reject_body(type, b, len, want);
	put_name(b + off, "ok");
	b[off + 5] = 'z';
	snprintf(want, sizeof(want),
		 "%sVM name byte 5 after its NUL is 0x7a (want NUL padding)", pre);
	reject_body(type, b, len, want);
	put_name(b + off, "ok");
	b[off + 31] = 1;
	snprintf(want, sizeof(want), "%sVM name byte 31 after its NUL is 0x01", pre);
	reject_body(type, b, len, want);
	memcpy(b + off, saved, 32);
}

static void accept_body(uint16_t type, const uint8_t *b, size_t len)
{
	static uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_BODY], enc[PROTO_HDR_LEN + PROTO_MAX_BODY];
	size_t n = raw_msg(buf, type, b, len);

	if (proto_parse(buf, n, &msg, err, sizeof(err)))
		fail_msg("type 0x%x body of %zu bytes refused: %s", type, len, err);
	assert_int_equal(proto_encode(type, b, len, enc, sizeof(enc)), n);
	assert_memory_equal(enc, buf, n);
}

static void test_reject_vm_names(void **state)
{
	static uint8_t b[PROTO_MAX_BODY];
	static const uint16_t named[] = { PROTO_VM_STOP, PROTO_VM_DESTROY,
					  PROTO_VM_STATUS, PROTO_VM_CONSOLE };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(named); i++) {
		put_name(b, "v");
		reject_names(named[i], b, 32, 0, "");
	}
	memset(b, 0, 40);
	put_name(b, "v");
	reject_names(PROTO_VM_START, b, 40, 0, "");
	/* VM_START's mode and reserved field */
	put32(b + 32, 2);
	accept_body(PROTO_VM_START, b, 40);
	put32(b + 32, 3);
	reject_body(PROTO_VM_START, b, 40, "VM_START mode 3 (want 0..2)");
	put32(b + 32, 0);
	put32(b + 36, 1);
	reject_body(PROTO_VM_START, b, 40,
		    "VM_START reserved field is 0x00000001 (must be 0)");
	fill_create(b, "v", 2u << 20, 1, 0, 0);
	reject_names(PROTO_VM_CREATE, b, CR_SIZE, 0, "");
	memset(b, 0, 48);
	put_name(b, "v");
	put32(b + UP_PART, 1);
	reject_names(PROTO_VM_UPLOAD, b, 49, 0, "");
	fill_info(b, "a", 1, "", 0);
	fill_info(b + IN_SIZE, "b", 2, "", 0);
	fill_info(b + 2 * IN_SIZE, "c", 3, "", 0);
	reject_names(PROTO_VM_INFO, b, 3 * IN_SIZE, 0, "VM_INFO record 0: ");
	reject_names(PROTO_VM_INFO, b, 3 * IN_SIZE, 2 * IN_SIZE, "VM_INFO record 2: ");
}


static void test_vm_names_accepted(void **state)
{
	static const char *const good[] = {
		"a", "0", "_", "-", "web-1", "db_primary", "a-b_c-0123456789",
		"abcdefghijklmnopqrstuvwxyz01234", /* 31 */
	};
	uint8_t b[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		put_name(b, good[i]);
		accept_body(PROTO_VM_STATUS, b, 32);
	}
}

static void test_reject_create(void **state)
{
	static uint8_t b[CR_SIZE + PROTO_SECRETS_MAX + 8];
	static const uint64_t bad_mem[] = {
		0, 1, (1u << 20), (2u << 20) - 1, (2u << 20) + 1, (3u << 20),
		(1ull << 30) + (2u << 20), (2ull << 30), UINT64_MAX,
		UINT64_MAX - (2u << 20) + 1,
	};
	static const uint64_t good_mem[] = { 2u << 20, 4u << 20, 1022ull << 20,
					     1ull << 30 };
	char want[160];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good_mem); i++) {
		fill_create(b, "m", good_mem[i], 1, 0, 0);
		accept_body(PROTO_VM_CREATE, b, CR_SIZE);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_mem); i++) {
		fill_create(b, "m", bad_mem[i], 1, 0, 0);
		snprintf(want, sizeof(want),
			 "VM_CREATE mem_size %llu (want a multiple of 2 MiB, 2 MiB..1 GiB)",
			 (unsigned long long)bad_mem[i]);
		reject_body(PROTO_VM_CREATE, b, CR_SIZE, want);
	}
	fill_create(b, "m", 2u << 20, 0, 0, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE, "VM_CREATE image_len 0 (want 1..8388608)");
	fill_create(b, "m", 2u << 20, (8u << 20) + 1, 0, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE image_len 8388609 (want 1..8388608)");
	fill_create(b, "m", 2u << 20, UINT64_MAX, 0, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE image_len 18446744073709551615 (want 1..8388608)");
	fill_create(b, "m", 2u << 20, 8u << 20, 1u << 20, 0);
	accept_body(PROTO_VM_CREATE, b, CR_SIZE);
	fill_create(b, "m", 2u << 20, 1, (1u << 20) + 1, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE init_len 1048577 (want 0..1048576)");
	fill_create(b, "m", 2u << 20, 1, 1ull << 32, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE init_len 4294967296 (want 0..1048576)");
	/* secrets_len against the body. */
	fill_create(b, "m", 2u << 20, 1, 0, 3);
	memcpy(b + CR_SIZE, "A=\0", 3);
	accept_body(PROTO_VM_CREATE, b, CR_SIZE + 3);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE secrets_len 3 and cmdline_len 0, but 0 bytes follow the struct");
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 4,
		    "VM_CREATE secrets_len 3 and cmdline_len 0, but 4 bytes follow the struct");
	put32(b + CR_SLEN, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 3,
		    "VM_CREATE secrets_len 0 and cmdline_len 0, but 3 bytes follow the struct");
	put32(b + CR_SLEN, PROTO_SECRETS_MAX + 1);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 3,
		    "VM_CREATE secrets_len 4097 (want 0..4096)");
	put32(b + CR_SLEN, 0xffffffffu);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 3,
		    "VM_CREATE secrets_len 4294967295 (want 0..4096)");
	put32(b + CR_SLEN, 3);
	put32(b + CR_RESERVED, 1);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 3,
		    "VM_CREATE reserved field is 0x00000001 (must be 0)");
	put32(b + CR_RESERVED, 0x80000000u);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 3,
		    "VM_CREATE reserved field is 0x80000000 (must be 0)");
	put32(b + CR_RESERVED, 0);
	/* The secrets themselves (the rules: test_secrets). */
	memcpy(b + CR_SIZE, "A=1", 3);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 3, "secret at byte 0 is not NUL-terminated");
	memcpy(b + CR_SIZE, "a-\0", 3);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 3,
		    "secret at byte 0: key byte 1 is 0x2d (want A-Z, a-z, 0-9 or _)");
	/* The salt is opaque. */
	memcpy(b + CR_SIZE, "A=\0", 3);
	memset(b + CR_SALT, 0xff, 32);
	accept_body(PROTO_VM_CREATE, b, CR_SIZE + 3);
}

/* VM_CREATE of a Linux VM: boot_protocol, initrd_len and the command
 * line after the (absent) secrets. */
static void test_create_linux(void **state)
{
	static uint8_t b[CR_SIZE + PROTO_CMDLINE_MAX + 8];
	const char cmd[] = "console=ttyS0 quiet";

	(void)state;
	assert_int_equal(offsetof(struct proto_vm_create, boot_protocol), CR_BOOT);
	assert_int_equal(offsetof(struct proto_vm_create, cmdline_len), CR_CLEN);
	assert_int_equal(offsetof(struct proto_vm_create, initrd_len), CR_INITRD);
	assert_int_equal(offsetof(struct proto_vm_info, initrd_len), IN_INITRD_LEN);
	assert_int_equal(offsetof(struct proto_vm_info, initrd_received), IN_INITRD_RCV);
#define LINUX_CREATE(image, initrd, clen) do { \
		fill_create(b, "tux", 64u << 20, image, 0, 0); \
		put32(b + CR_BOOT, PROTO_BOOT_LINUX64); \
		put32(b + CR_CLEN, clen); \
		put64(b + CR_INITRD, initrd); \
		memcpy(b + CR_SIZE, cmd, sizeof(cmd)); \
	} while (0)
	LINUX_CREATE(16u << 20, 32u << 20, sizeof(cmd));
	accept_body(PROTO_VM_CREATE, b, CR_SIZE + sizeof(cmd));
	LINUX_CREATE(1, 0, 0);
	accept_body(PROTO_VM_CREATE, b, CR_SIZE);
	LINUX_CREATE(0, 0, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE kernel image_len 0 (want 1..16777216)");
	LINUX_CREATE((16u << 20) + 1, 0, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE kernel image_len 16777217 (want 1..16777216)");
	LINUX_CREATE(1, (32u << 20) + 1, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE initrd_len 33554433 (want 0..33554432)");
	LINUX_CREATE(1, 0, PROTO_CMDLINE_MAX + 1);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + PROTO_CMDLINE_MAX + 1,
		    "VM_CREATE cmdline_len 2049 (want 0..2048)");
	LINUX_CREATE(1, 0, sizeof(cmd));
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + sizeof(cmd) - 1,
		    "VM_CREATE secrets_len 0 and cmdline_len 20, but 19 bytes follow");
	LINUX_CREATE(1, 0, sizeof(cmd) - 1);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + sizeof(cmd) - 1,
		    "VM_CREATE command line not NUL-terminated");
	LINUX_CREATE(1, 0, sizeof(cmd));
	b[CR_SIZE + 3] = 0;
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + sizeof(cmd),
		    "VM_CREATE command line has a NUL inside");
	LINUX_CREATE(1, 0, 0);
	put64(b + CR_INIT, 1);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE of a Linux VM with init data or secrets");
	LINUX_CREATE(1, 0, 0);
	put32(b + CR_SLEN, 3);
	memcpy(b + CR_SIZE, "A=\0", 3);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 3,
		    "VM_CREATE of a Linux VM with init data or secrets");
	LINUX_CREATE(1, 0, 0);
	put32(b + CR_BOOT, 2);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE boot_protocol 2 (want 0 ELF or 1 Linux)");
	/* an ELF VM takes neither an initrd nor a command line */
	fill_create(b, "elf", 64u << 20, 1, 0, 0);
	put64(b + CR_INITRD, 1);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE of an ELF VM with an initrd or command line");
	fill_create(b, "elf", 64u << 20, 1, 0, 0);
	put32(b + CR_CLEN, 1);
	b[CR_SIZE] = 0;
	reject_body(PROTO_VM_CREATE, b, CR_SIZE + 1,
		    "VM_CREATE of an ELF VM with an initrd or command line");
	/* ... and no 16 MiB image */
	fill_create(b, "elf", 64u << 20, 16u << 20, 0, 0);
	reject_body(PROTO_VM_CREATE, b, CR_SIZE,
		    "VM_CREATE image_len 16777216 (want 1..8388608)");
#undef LINUX_CREATE
}

/* p (len bytes) as secrets: refused with needle, by proto_secrets_check
 * and inside a VM_CREATE. */
static void reject_secrets(const void *p, size_t len, const char *needle)
{
	static uint8_t b[CR_SIZE + PROTO_SECRETS_MAX];

	memset(err, 'x', sizeof(err));
	if (proto_secrets_check(p, len, err, sizeof(err)) != -1)
		fail_msg("secrets accepted; expected \"%s\"", needle);
	if (!strstr(err, needle))
		fail_msg("secrets: message \"%s\" lacks \"%s\"", err, needle);
	if (len <= PROTO_SECRETS_MAX) {
		fill_create(b, "s", 2u << 20, 1, 0, (uint32_t)len);
		memcpy(b + CR_SIZE, p, len);
		reject_body(PROTO_VM_CREATE, b, CR_SIZE + len, needle);
	}
}

static void accept_secrets(const void *p, size_t len)
{
	static uint8_t b[CR_SIZE + PROTO_SECRETS_MAX];

	memset(err, 'x', sizeof(err));
	if (proto_secrets_check(p, len, err, sizeof(err)))
		fail_msg("secrets of %zu bytes refused: %s", len, err);
	assert_string_equal(err, "");
	fill_create(b, "s", 2u << 20, 1, 0, (uint32_t)len);
	memcpy(b + CR_SIZE, p, len);
	accept_body(PROTO_VM_CREATE, b, CR_SIZE + len);
}

#define S(lit) lit, sizeof(lit) - 1

static void test_secrets(void **state)
{
	static uint8_t big[PROTO_SECRETS_MAX + 2];
	char s[1200];
	size_t n;

	(void)state;
	accept_secrets("", 0);
	assert_int_equal(proto_secrets_check(NULL, 0, NULL, 0), 0);
	accept_secrets(S("A=\0"));
	accept_secrets(S("API_KEY=s3cr3t value ~!@#$%^&*()=\0db=x\0Z9_=\0"));
	accept_secrets(S("a=1\0A=2\0"));            /* keys are case-sensitive */
	accept_secrets(S("K=a=b=c\0"));              /* '=' in the value */
	accept_secrets(S("K= \0"));
	/* Key rules. */
	reject_secrets(S("=v\0"), "secret at byte 0: empty key");
	reject_secrets(S("A=1\0=v\0"), "secret at byte 4: empty key");
	reject_secrets(S("\0"), "secret at byte 0 has no '=' (want KEY=VALUE)");
	reject_secrets(S("A=1\0\0"), "secret at byte 4 has no '='");
	reject_secrets(S("AB\0"), "secret at byte 0 has no '='");
	reject_secrets(S("A B=1\0"),
		       "secret at byte 0: key byte 1 is 0x20 (want A-Z, a-z, 0-9 or _)");
	reject_secrets(S("A-B=1\0"), "secret at byte 0: key byte 1 is 0x2d");
	reject_secrets(S("\xc3\xa9=1\0"), "secret at byte 0: key byte 0 is 0xc3");
	reject_secrets(S("A\nB=1\0"), "secret at byte 0: key byte 1 is 0x0a");
	memset(s, 'K', 64);
	memcpy(s + 64, "=v", 3);
	accept_secrets(s, 67);
	memset(s, 'K', 65);
	memcpy(s + 65, "=v", 3);
	reject_secrets(s, 68, "secret at byte 0: key longer than 64 bytes");
	/* Value rules. */
	memcpy(s, "V=", 2);
	memset(s + 2, '~', 1024);
	s[2 + 1024] = 0;
	accept_secrets(s, 2 + 1024 + 1);
	memset(s + 2, ' ', 1025);
	s[2 + 1025] = 0;
	reject_secrets(s, 2 + 1025 + 1, "secret at byte 0: value longer than 1024 bytes");
	reject_secrets(S("A=1\0B=x\ty\0"),
		       "secret at byte 4: value byte 1 is 0x09 (want 0x20..0x7e)");
	reject_secrets(S("B=\x7f\0"), "secret at byte 0: value byte 0 is 0x7f");
	reject_secrets(S("B=\x80\0"), "secret at byte 0: value byte 0 is 0x80");
	reject_secrets(S("B=\x1f\0"), "secret at byte 0: value byte 0 is 0x1f");
	/* Exactly filling the length: no missing NUL, nothing after. */
	reject_secrets(S("A=1"), "secret at byte 0 is not NUL-terminated");
	reject_secrets(S("A=1\0B"), "secret at byte 4 is not NUL-terminated");
	reject_secrets(S("A=1\0B="), "secret at byte 4 is not NUL-terminated");
	reject_secrets(S("A"), "secret at byte 0 is not NUL-terminated");
	/* Duplicates (the whole key, case-sensitive). */
	reject_secrets(S("A=1\0A=2\0"),
		       "secret at byte 4: duplicate key (first at byte 0)");
	reject_secrets(S("A=1\0AB=2\0B=3\0AB=\0"),
		       "secret at byte 13: duplicate key (first at byte 4)");
	accept_secrets(S("AB=1\0A=2\0ABC=3\0"));
	/* The total. */
	n = 0;
	memset(big, 0, sizeof(big));
	for (unsigned k = 0; n + 6 <= PROTO_SECRETS_MAX; k++) {
		snprintf((char *)big + n, 7, "%c%c%c=v", 'A' + k / 676 % 26,
			 'A' + k / 26 % 26, 'A' + k % 26);
		n += 6;
	}
	accept_secrets(big, n); /* 682 secrets of 6 bytes: 4092 */
	memset(big + n, 0, sizeof(big) - n);
	memcpy(big + n, "Z=v", 4);
	assert_int_equal(n + 4, PROTO_SECRETS_MAX);
	accept_secrets(big, n + 4); /* 4096 exactly */
	memcpy(big + n, "Z=vv", 5);
	memset(err, 'x', sizeof(err));
	assert_int_equal(proto_secrets_check(big, PROTO_SECRETS_MAX + 1, err,
					     sizeof(err)), -1);
	assert_string_equal(err, "secrets of 4097 bytes (want 0..4096)");
}

static void test_secret_add(void **state)
{
	uint8_t buf[PROTO_SECRETS_MAX + 64], before[sizeof(buf)];
	char s[1200];
	size_t len = 0;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, "A=1"), 0);
	assert_int_equal(len, 4);
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, "B_2=x y=z"), 0);
	assert_int_equal(len, 14);
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, "EMPTY="), 0);
	assert_int_equal(len, 21);
	assert_memory_equal(buf, "A=1\0B_2=x y=z\0EMPTY=\0", 21);
	assert_int_equal(buf[21], 0xee);
	assert_int_equal(proto_secrets_check(buf, len, NULL, 0), 0);
	memcpy(before, buf, sizeof(buf));
	/* Refused, nothing changed. */
	{
		static const char *const bad[] = {
			"", "=", "=x", "A", "A=1", "B_2=other", "a b=1", "K=\t",
			"K=\x80", "K-1=2", "K=caf\xc3\xa9",
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			if (proto_secret_add(buf, sizeof(buf), &len, bad[i]) != -1)
				fail_msg("secret \"%s\" added", bad[i]);
			assert_int_equal(len, 21);
			assert_memory_equal(buf, before, sizeof(buf));
		}
	}
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, NULL), -1);
	assert_int_equal(proto_secret_add(NULL, sizeof(buf), &len, "X=1"), -1);
	assert_int_equal(proto_secret_add(buf, sizeof(buf), NULL, "X=1"), -1);
	/* Key and value limits. */
	memset(s, 'K', 64);
	memcpy(s + 64, "=1", 3);
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, s), 0);
	assert_int_equal(len, 21 + 67);
	memset(s, 'L', 65);
	memcpy(s + 65, "=1", 3);
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, s), -1);
	memcpy(s, "V=", 2);
	memset(s + 2, 'v', 1024);
	s[1026] = 0;
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, s), 0);
	assert_int_equal(len, 21 + 67 + 1027);
	memcpy(s, "W=", 2);
	memset(s + 2, 'v', 1100);
	s[1102] = 0;
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, s), -1);
	assert_int_equal(len, 21 + 67 + 1027);
	/* Room: cap, then PROTO_SECRETS_MAX. */
	len = 0;
	assert_int_equal(proto_secret_add(buf, 3, &len, "A=1"), -1);
	assert_int_equal(proto_secret_add(buf, 4, &len, "A=1"), 0);
	assert_int_equal(proto_secret_add(buf, 4, &len, "B="), -1);
	assert_int_equal(len, 4);
	len = 5; /* beyond cap */
	assert_int_equal(proto_secret_add(buf, 4, &len, "B="), -1);
	len = 0;
	memcpy(s, "X=", 2);
	memset(s + 2, 'x', 1024);
	s[1026] = 0;
	for (char k = 'A'; k < 'D'; k++) {
		s[0] = k;
		assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, s), 0);
	}
	assert_int_equal(len, 3 * 1027);
	s[0] = 'E';
	s[2 + 1013] = 0; /* 1016 bytes with the NUL: one too many */
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, s), -1);
	s[2 + 1012] = 0;
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, s), 0);
	assert_int_equal(len, PROTO_SECRETS_MAX);
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, "F="), -1);
	assert_int_equal(len, PROTO_SECRETS_MAX);
	assert_int_equal(proto_secrets_check(buf, len, NULL, 0), 0);
	/* An invalid block is not appended to. */
	memcpy(buf, "A=1\0", 4);
	buf[1] = '-';
	len = 4;
	assert_int_equal(proto_secret_add(buf, sizeof(buf), &len, "B=2"), -1);
	assert_int_equal(len, 4);
}

static void test_vm_name_helpers(void **state)
{
	char n[PROTO_VM_NAME_MAX], want[PROTO_VM_NAME_MAX];
	static const char *const bad[] = {
		"", "A", "web.1", "a b", "a/b", "caf\xc3\xa9", "x\n",
		"abcdefghijklmnopqrstuvwxyz012345", /* 32 */
		"abcdefghijklmnopqrstuvwxyz0123456789",
	};

	(void)state;
	/* the states in the CLI's and the TPGVM's words */
	assert_string_equal(proto_vm_state_name(0), "destroyed");
	assert_string_equal(proto_vm_state_name(HC_VM_LOADED), "loaded");
	assert_string_equal(proto_vm_state_name(HC_VM_EXITED), "exited");
	assert_string_equal(proto_vm_state_name(HC_VM_SEALED), "sealed");
	assert_string_equal(proto_vm_state_name(6), "unknown");
	memset(n, 'q', sizeof(n));
	assert_int_equal(proto_vm_name_set(n, "web-1"), 0);
	memset(want, 0, sizeof(want));
	memcpy(want, "web-1", 5);
	assert_memory_equal(n, want, sizeof(n));
	assert_true(proto_vm_name_ok(n));
	assert_int_equal(proto_vm_name_set(n, "abcdefghijklmnopqrstuvwxyz01234"), 0);
	assert_int_equal(n[31], 0);
	assert_true(proto_vm_name_ok(n));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(want, n, sizeof(n));
		if (proto_vm_name_set(n, bad[i]) != -1)
			fail_msg("name \"%s\" set", bad[i]);
		assert_memory_equal(n, want, sizeof(n));
	}
	assert_int_equal(proto_vm_name_set(n, NULL), -1);
	assert_int_equal(proto_vm_name_set(NULL, "a"), -1);
	assert_false(proto_vm_name_ok(NULL));
	memset(n, 0, sizeof(n));
	assert_false(proto_vm_name_ok(n));
	memcpy(n, "ok\0x", 4);
	assert_false(proto_vm_name_ok(n));
	memset(n, 'a', sizeof(n));
	assert_false(proto_vm_name_ok(n));
	n[31] = 0;
	assert_true(proto_vm_name_ok(n));
	n[3] = 'A';
	assert_false(proto_vm_name_ok(n));
}

static void test_reject_upload(void **state)
{
	static uint8_t b[48 + PROTO_CHUNK_MAX];

	(void)state;
	memset(b, 0x5a, sizeof(b));
	memset(b, 0, 48);
	put_name(b, "up");
	put32(b + UP_PART, PROTO_PART_IMAGE);
	put64(b + UP_OFFSET, UINT64_MAX); /* checked by the TPGVM, not here */
	accept_body(PROTO_VM_UPLOAD, b, 49);
	accept_body(PROTO_VM_UPLOAD, b, sizeof(b));
	put32(b + UP_PART, PROTO_PART_INIT_DATA);
	accept_body(PROTO_VM_UPLOAD, b, 100);
	put32(b + UP_PART, 0);
	reject_body(PROTO_VM_UPLOAD, b, 100,
		    "VM_UPLOAD part 0 (want 1 image, 2 init data or 3 initrd)");
	put32(b + UP_PART, PROTO_PART_INITRD);
	accept_body(PROTO_VM_UPLOAD, b, 100);
	put32(b + UP_PART, 4);
	reject_body(PROTO_VM_UPLOAD, b, 100, "VM_UPLOAD part 4 (want 1 image");
	put32(b + UP_PART, 0x100);
	reject_body(PROTO_VM_UPLOAD, b, 100, "VM_UPLOAD part 256");
	put32(b + UP_PART, 1);
	put32(b + UP_RESERVED, 0x10);
	reject_body(PROTO_VM_UPLOAD, b, 100,
		    "VM_UPLOAD reserved field is 0x00000010 (must be 0)");
}

static void test_reject_info(void **state)
{
	static uint8_t b[PROTO_VM_LIST_MAX * IN_SIZE];
	char reason[64];

	(void)state;
	for (unsigned r = 0; r < PROTO_VM_LIST_MAX; r++) {
		char name[8];

		snprintf(name, sizeof(name), "v%u", r);
		fill_info(b + r * IN_SIZE, name, r % 6, "", r);
	}
	accept_body(PROTO_VM_INFO, b, sizeof(b));
	/* State 0 (destroyed) .. 5 (sealed). */
	put32(b + IN_SIZE + IN_STATE, 0);
	accept_body(PROTO_VM_INFO, b, 2 * IN_SIZE);
	put32(b + IN_SIZE + IN_STATE, 5);
	accept_body(PROTO_VM_INFO, b, 2 * IN_SIZE);
	put32(b + IN_SIZE + IN_STATE, 6);
	reject_body(PROTO_VM_INFO, b, 2 * IN_SIZE, "VM_INFO record 1: state 6 (want 0..5)");
	accept_body(PROTO_VM_INFO, b, IN_SIZE);
	put32(b + IN_SIZE + IN_STATE, 0xffffffffu);
	reject_body(PROTO_VM_INFO, b, 2 * IN_SIZE, "VM_INFO record 1: state 4294967295");
	put32(b + IN_SIZE + IN_STATE, 4);
	put32(b + 15 * IN_SIZE + IN_FLAGS, PROTO_VM_INFO_FLAGS);
	accept_body(PROTO_VM_INFO, b, sizeof(b));
	put32(b + 15 * IN_SIZE + IN_FLAGS, 8);
	reject_body(PROTO_VM_INFO, b, sizeof(b),
		    "VM_INFO record 15: flags 0x00000008 (want bits of 0x7)");
	put32(b + 15 * IN_SIZE + IN_FLAGS, 0);
	/* stop_reason: printable, NUL-terminated within 64 bytes. */
	memset(reason, 'r', sizeof(reason));
	memcpy(b + IN_REASON, reason, 63);
	accept_body(PROTO_VM_INFO, b, IN_SIZE);
	memcpy(b + IN_REASON, reason, 64);
	reject_body(PROTO_VM_INFO, b, IN_SIZE,
		    "VM_INFO record 0: stop_reason is not NUL-terminated within 64 bytes");
	memset(b + IN_REASON, 0, 64);
	memcpy(b + IN_REASON, "fault\x1b[2J", 9);
	reject_body(PROTO_VM_INFO, b, IN_SIZE,
		    "VM_INFO record 0: stop_reason byte 5 is 0x1b (want 0x20..0x7e)");
	b[IN_REASON + 5] = 0;
	accept_body(PROTO_VM_INFO, b, IN_SIZE); /* after the NUL: not looked at */
	b[IN_REASON + 1] = 0xff;
	reject_body(PROTO_VM_INFO, b, IN_SIZE, "VM_INFO record 0: stop_reason byte 1 is 0xff");
	/* The other fields are not constrained here. */
	fill_info(b, "z", 3, "", 0);
	memset(b + IN_MEM, 0xff, IN_REASON - IN_MEM);
	accept_body(PROTO_VM_INFO, b, IN_SIZE);
}

static void test_vm_other_bodies(void **state)
{
	static uint8_t b[PROTO_CHUNK_MAX];

	(void)state;
	/* Console data: any bytes (escapes, NULs): the terminal sanitises. */
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37);
	accept_body(PROTO_VM_CONSOLE_DATA, b, sizeof(b));
	accept_body(PROTO_VM_CONSOLE_DATA, b, 0);
	/* Console input: a VM name, then any bytes (keystrokes, Ctrl-C,
	 * escapes: the VM's own business). */
	{
		static uint8_t in[32 + PROTO_CONSOLE_INPUT_MAX];

		memcpy(in + 32, b, PROTO_CONSOLE_INPUT_MAX);
		memset(in, 0, 32);
		memcpy(in, "web", 3);
		accept_body(PROTO_VM_CONSOLE_INPUT, in, 33);
		accept_body(PROTO_VM_CONSOLE_INPUT, in, sizeof(in));
		memcpy(in, "Web", 3);
		reject_body(PROTO_VM_CONSOLE_INPUT, in, 33, "VM name");
		memset(in, 0, 32);
		reject_body(PROTO_VM_CONSOLE_INPUT, in, 40, "VM name");
	}
	/* How much of it the VM took: never more than one message holds. */
	{
		uint8_t n[4] = { 0, 4, 0, 0 }; /* 1024 */

		accept_body(PROTO_VM_INPUT_TAKEN, n, 4);
		n[0] = 1; /* 1025 */
		reject_body(PROTO_VM_INPUT_TAKEN, n, 4, "VM_INPUT_TAKEN of 1025 bytes");
		memset(n, 0xff, 4);
		reject_body(PROTO_VM_INPUT_TAKEN, n, 4, "want 0..1024");
	}
	accept_body(PROTO_VM_LIST, b, 0);
	accept_body(PROTO_VM_INFO, b, 0);
	/* An empty body needs no pointer. */
	{
		uint8_t buf[PROTO_HDR_LEN];
		static const uint8_t want[] = { 0, 0, 0, 0, 0x16, 0, 0, 0 };

		assert_int_equal(proto_encode(PROTO_VM_LIST, NULL, 0, buf, sizeof(buf)),
				 PROTO_HDR_LEN);
		assert_memory_equal(buf, want, sizeof(want));
		assert_int_equal(proto_encode(PROTO_VM_LIST, NULL, 0, buf, 7), 0);
		assert_int_equal(proto_encode(PROTO_VM_STATUS, NULL, 32, buf,
					      sizeof(buf)), 0);
	}
}

static void test_reject_size_mismatch(void **state)
{
	static uint8_t buf[PROTO_HDR_LEN + 64 + 8];
	size_t n;

	(void)state;
	n = make_msg(buf, sizeof(buf), PROTO_ATTEST_REQ, 40, 1);
	reject(buf, n + 1, "message of 49 bytes, but its header says 8 + 40");
	reject(buf, n - 1, "message of 47 bytes, but its header says 8 + 40");
	reject(buf, PROTO_HDR_LEN, "message of 8 bytes, but its header says 8 + 40");
	reject(buf, 7, "message of 7 bytes is shorter than its 8-byte header");
	reject(buf, 0, "message of 0 bytes is shorter than its 8-byte header");
}

static void test_reject_error_body(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX];
	static const uint32_t bad_codes[] = { 0, 12, 0x100, 0x01000001, 0xffffffff };
	static const uint8_t bad_bytes[] = { 0x00, 0x0a, 0x1f, 0x7f, 0x80, 0xff };
	char want[64];
	size_t n;

	(void)state;
	n = proto_encode_error(PROTO_ERR_INTERNAL, "abcdef", buf, sizeof(buf));
	assert_int_equal(n, PROTO_HDR_LEN + 10);
	for (size_t i = 0; i < ARRAY_SIZE(bad_codes); i++) {
		put32(buf + PROTO_HDR_LEN, bad_codes[i]);
		snprintf(want, sizeof(want), "unknown error code %u", bad_codes[i]);
		reject(buf, n, want);
	}
	put32(buf + PROTO_HDR_LEN, PROTO_ERR_BUSY);
	for (size_t i = 0; i < ARRAY_SIZE(bad_bytes); i++) {
		buf[PROTO_HDR_LEN + 4 + 2] = bad_bytes[i];
		snprintf(want, sizeof(want),
			 "error text byte 2 is 0x%02x (want 0x20..0x7e)", bad_bytes[i]);
		reject(buf, n, want);
	}
	/* The edges of the printable range are fine. */
	buf[PROTO_HDR_LEN + 4 + 2] = 0x20;
	buf[PROTO_HDR_LEN + 4 + 5] = 0x7e;
	assert_int_equal(proto_parse(buf, n, &msg, err, sizeof(err)), 0);
	buf[PROTO_HDR_LEN + 4 + 5] = 0x7f;
	reject(buf, n, "error text byte 5 is 0x7f");
}

static void test_truncation_everywhere(void **state)
{
	static uint8_t buf[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX];
	static const uint16_t types[] = { PROTO_ATTEST_REQ, PROTO_ATTEST_RESP,
					  PROTO_ERROR };
	static const size_t lens[] = { 33, 90, 4 + 50 };
	struct guarded g;

	(void)state;
	guarded_init(&g, sizeof(buf));
	for (size_t k = 0; k < ARRAY_SIZE(types); k++) {
		size_t full = make_msg(buf, sizeof(buf), types[k], lens[k], (unsigned)k);

		for (size_t n = 0; n <= full; n++)
			for (int at_end = 0; at_end < 2; at_end++) {
				uint8_t *copy = guarded_fill(&g, buf, n, at_end);
				int rc = proto_parse(copy, n, &msg, err, sizeof(err));

				if (n == full)
					assert_int_equal(rc, 0);
				else if (rc != -1)
					fail_msg("prefix of %zu bytes accepted", n);
			}
	}
	guarded_free(&g);
}

static void test_null_err(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 64];
	uint8_t shifted[PROTO_HDR_LEN + 64 + 8];
	size_t n;

	(void)state;
	n = make_msg(buf, sizeof(buf), PROTO_ATTEST_REQ, 64, 3);
	for (size_t s = 1; s < 8; s++) {
		memcpy(shifted + s, buf, n);
		assert_int_equal(proto_parse(shifted + s, n, &msg, NULL, 0), 0);
		assert_ptr_equal(msg.body, shifted + s + PROTO_HDR_LEN);
	}
	buf[6] = 1;
	assert_int_equal(proto_parse(buf, n, &msg, NULL, 0), -1);
	/* A one-byte err gets just the terminator. */
	err[0] = 'x';
	assert_int_equal(proto_parse(buf, n, &msg, err, 1), -1);
	assert_int_equal(err[0], 0);
}

/* ---- Encoders --------------------------------------------------------------- */

static void test_encode_refuses(void **state)
{
	static uint8_t body[REPORT_MAX_SIZE + 1];
	static uint8_t buf[PROTO_HDR_LEN + REPORT_MAX_SIZE + 16];
	uint8_t ebody[8] = { 1, 0, 0, 0, 'o', 'k', '\n', '!' };

	(void)state;
	memset(body, 0x41, sizeof(body));
	assert_int_equal(proto_encode(PROTO_ATTEST_REQ, body, 31, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_REQ, body, 65, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_RESP, body, 0, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_RESP, body, REPORT_MAX_SIZE + 1,
				      buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_RESP, body, (size_t)1 << 32 | 5,
				      buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(0, body, 40, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(9, body, 40, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_REQ, NULL, 40, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_REQ, body, 40, NULL, 100), 0);
	/* An ERROR body must itself be valid: code and text. */
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 8, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 6, buf, sizeof(buf)),
			 PROTO_HDR_LEN + 6);
	ebody[0] = 0;
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 6, buf, sizeof(buf)), 0);
	ebody[0] = 12;
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 4, buf, sizeof(buf)), 0);
	ebody[0] = 11;
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 4, buf, sizeof(buf)),
			 PROTO_HDR_LEN + 4);
}

/* Every capacity short of the message returns 0 and writes nothing past
 * it (the buffer ends at a guard page). */
static void test_encode_small_cap(void **state)
{
	static uint8_t nonce[48];
	struct guarded g;
	size_t need = PROTO_HDR_LEN + sizeof(nonce);

	(void)state;
	guarded_init(&g, need);
	for (size_t cap = 0; cap <= need; cap++) {
		uint8_t *at = g.map + g.map_len - (size_t)sysconf(_SC_PAGESIZE) - cap;

		assert_int_equal(proto_encode(PROTO_ATTEST_REQ, nonce, sizeof(nonce),
					      at, cap), cap == need ? need : 0);
		assert_int_equal(proto_encode_error(PROTO_ERR_BUSY, "busy", at, cap),
				 cap >= PROTO_HDR_LEN + 8 ? PROTO_HDR_LEN + 8 : 0);
	}
	guarded_free(&g);
}

static void test_encode_error_sanitises(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX + 32];
	char text[PROTO_ERROR_TEXT_MAX + 100];
	size_t n;

	(void)state;
	n = proto_encode_error(PROTO_ERR_BAD_REQUEST, "a\nb\tc\x7f" "d\x80\xff~ ",
			       buf, sizeof(buf));
	assert_int_equal(n, PROTO_HDR_LEN + 4 + 11);
	assert_memory_equal(buf + PROTO_HDR_LEN + 4, "a?b?c?d??~ ", 11);
	assert_int_equal(proto_parse(buf, n, &msg, err, sizeof(err)), 0);

	/* Cut to PROTO_ERROR_TEXT_MAX. */
	memset(text, 'z', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	n = proto_encode_error(PROTO_ERR_INTERNAL, text, buf, sizeof(buf));
	assert_int_equal(n, PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX);
	assert_int_equal(proto_parse(buf, n, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.len, 4 + PROTO_ERROR_TEXT_MAX);
	text[PROTO_ERROR_TEXT_MAX] = '\0';
	assert_int_equal(proto_encode_error(PROTO_ERR_INTERNAL, text, buf, sizeof(buf)),
			 PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX);

	/* Empty and NULL text: a bare code. */
	assert_int_equal(proto_encode_error(PROTO_ERR_BUSY, "", buf, sizeof(buf)),
			 PROTO_HDR_LEN + 4);
	assert_int_equal(proto_encode_error(PROTO_ERR_BUSY, NULL, buf, sizeof(buf)),
			 PROTO_HDR_LEN + 4);
	assert_int_equal(proto_parse(buf, PROTO_HDR_LEN + 4, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.body[0], PROTO_ERR_BUSY);

	/* An unknown code is not encoded. */
	assert_int_equal(proto_encode_error(0, "x", buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode_error(12, "x", buf, sizeof(buf)), 0);
	/* Too small a buffer. */
	assert_int_equal(proto_encode_error(PROTO_ERR_BUSY, "abc", buf,
					    PROTO_HDR_LEN + 6), 0);
}

/* ---- Reader ------------------------------------------------------------------ */

#define MAX_SEEN 24

/* A stream of messages of every type, and what the reader delivered. */
struct stream {
	uint8_t bytes[5 * (PROTO_HDR_LEN + PROTO_MAX_BODY)];
	size_t len;
	size_t n;
	size_t start[MAX_SEEN];
	size_t size[MAX_SEEN];
};

static void make_stream(struct stream *st)
{
	static const uint16_t types[] = {
		PROTO_ATTEST_REQ, PROTO_ATTEST_RESP, PROTO_ERROR, PROTO_ATTEST_RESP,
		PROTO_ATTEST_REQ, PROTO_ERROR, PROTO_ATTEST_RESP, PROTO_VM_CREATE,
		PROTO_VM_INFO, PROTO_VM_UPLOAD, PROTO_VM_LIST, PROTO_VM_INFO,
		PROTO_VM_CONSOLE, PROTO_VM_CONSOLE_DATA, PROTO_VM_CONSOLE_DATA,
		PROTO_VM_STOP,
	};
	static const size_t lens[] = { 32, 1, 4, 5000, 64, 4 + PROTO_ERROR_TEXT_MAX,
				       REPORT_MAX_SIZE, CR_SIZE + 1500, IN_SIZE,
				       48 + PROTO_CHUNK_MAX, 0, 16 * IN_SIZE, 32, 0,
				       PROTO_CHUNK_MAX, 32 };

	_Static_assert(ARRAY_SIZE(types) == ARRAY_SIZE(lens), "stream table");
	_Static_assert(ARRAY_SIZE(types) <= MAX_SEEN, "stream table");

	st->len = 0;
	st->n = ARRAY_SIZE(types);
	for (size_t k = 0; k < st->n; k++) {
		st->start[k] = st->len;
		st->size[k] = make_msg(st->bytes + st->len, sizeof(st->bytes) - st->len,
				       types[k], lens[k], (unsigned)k);
		st->len += st->size[k];
	}
}

/* Feed the stream in chunks (chunk(seed) bytes each, or 1 if seed is
 * NULL); every message must come out whole, in order, at the right point. */
static void read_stream(const struct stream *st, uint64_t *seed, size_t max_chunk)
{
	static uint8_t rbuf[PROTO_HDR_LEN + PROTO_MAX_BODY];
	struct proto_reader r;
	size_t off = 0, got = 0;

	proto_reader_init(&r, rbuf, sizeof(rbuf));
	while (off < st->len) {
		size_t chunk = seed ? 1 + xorshift64s(seed) % max_chunk : 1;
		size_t rest;

		if (chunk > st->len - off)
			chunk = st->len - off;
		rest = chunk;
		while (rest) {
			size_t used = 12345;
			enum proto_read_status s;

			s = proto_reader_feed(&r, st->bytes + off, rest, &used, &msg,
					      err, sizeof(err));
			assert_true(used <= rest);
			assert_true(r.have <= r.cap);
			off += used;
			rest -= used;
			if (s == PROTO_READ_MORE) {
				assert_int_equal(rest, 0);
				continue;
			}
			if (s != PROTO_READ_MSG)
				fail_msg("error at offset %zu: %s", off, err);
			assert_true(got < st->n);
			/* It ends exactly where the message ends. */
			assert_int_equal(off, st->start[got] + st->size[got]);
			assert_int_equal(PROTO_HDR_LEN + msg.len, st->size[got]);
			assert_memory_equal(msg.body, st->bytes + st->start[got] + PROTO_HDR_LEN,
					    msg.len);
			got++;
		}
	}
	assert_int_equal(got, st->n);
	/* Nothing left: an empty feed wants more. */
	{
		size_t used = 1;

		assert_int_equal(proto_reader_feed(&r, NULL, 0, &used, &msg, err,
						   sizeof(err)), PROTO_READ_MORE);
		assert_int_equal(used, 0);
		assert_int_equal(r.have, 0);
	}
}

static struct stream *new_stream(void)
{
	struct stream *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	make_stream(st);
	return st;
}

static void test_reader_byte_by_byte(void **state)
{
	struct stream *st = new_stream();

	(void)state;
	read_stream(st, NULL, 1);
	free(st);
}

static void test_reader_random_chunks(void **state)
{
	struct stream *st = new_stream();
	static const size_t maxes[] = { 3, 17, 300, 5000, 70000, 300000 };

	(void)state;
	for (uint64_t s0 = 1; s0 <= 20; s0++)
		for (size_t m = 0; m < ARRAY_SIZE(maxes); m++) {
			uint64_t seed = s0 * 0x9e3779b97f4a7c15ull;

			read_stream(st, &seed, maxes[m]);
		}
	/* The whole stream in one feed. */
	{
		uint64_t seed = 7;

		read_stream(st, &seed, SIZE_MAX / 2);
	}
	free(st);
}

static void test_reader_back_to_back(void **state)
{
	uint8_t two[2 * (PROTO_HDR_LEN + 64)], rbuf[PROTO_HDR_LEN + IN_SIZE];
	struct proto_reader r;
	size_t a, b, used;

	(void)state;
	a = make_msg(two, sizeof(two), PROTO_ATTEST_REQ, 40, 1);
	b = make_msg(two + a, sizeof(two) - a, PROTO_ATTEST_REQ, 50, 2);
	proto_reader_init(&r, rbuf, sizeof(rbuf));
	assert_int_equal(proto_reader_feed(&r, two, a + b, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MSG);
	assert_int_equal(used, a);
	assert_int_equal(msg.type, PROTO_ATTEST_REQ);
	assert_int_equal(msg.len, 40);
	assert_memory_equal(msg.body, two + PROTO_HDR_LEN, 40);
	assert_int_equal(proto_reader_feed(&r, two + a, b, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MSG);
	assert_int_equal(used, b);
	assert_int_equal(msg.len, 50);
	assert_memory_equal(msg.body, two + a + PROTO_HDR_LEN, 50);
	assert_int_equal(proto_reader_feed(&r, two, 0, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(r.have, 0);

	/* The first message's tail and the second's head in one feed. */
	proto_reader_init(&r, rbuf, sizeof(rbuf));
	assert_int_equal(proto_reader_feed(&r, two, 10, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MORE);
	assert_int_equal(used, 10);
	assert_int_equal(proto_reader_feed(&r, two + 10, a, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MSG);
	assert_int_equal(used, a - 10);
	assert_int_equal(msg.len, 40);
	assert_int_equal(proto_reader_feed(&r, two + a, 10, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MORE);
	assert_int_equal(used, 10);
	assert_int_equal(proto_reader_feed(&r, two + a + 10, b - 10, &used, &msg,
					   err, sizeof(err)), PROTO_READ_MSG);
	assert_int_equal(msg.len, 50);
	assert_memory_equal(msg.body, two + a + PROTO_HDR_LEN, 50);
}

/* Feed hdr (and a huge tail that must not be waited for): an error as soon
 * as the header is complete, having taken exactly the header; the reader
 * stays failed. */
static void reader_rejects_header(const uint8_t hdr[PROTO_HDR_LEN], size_t cap,
				  const char *needle)
{
	static uint8_t input[PROTO_HDR_LEN + 4096];
	static uint8_t rbuf[PROTO_HDR_LEN + PROTO_MAX_BODY];
	struct proto_reader r;
	size_t used;

	memset(input, 0x20, sizeof(input));
	memcpy(input, hdr, PROTO_HDR_LEN);
	proto_reader_init(&r, rbuf, cap);
	/* Byte by byte: more, until the header's last byte. */
	for (size_t i = 0; i + 1 < PROTO_HDR_LEN; i++) {
		assert_int_equal(proto_reader_feed(&r, input + i, 1, &used, &msg, err,
						   sizeof(err)), PROTO_READ_MORE);
		assert_int_equal(used, 1);
	}
	assert_int_equal(proto_reader_feed(&r, input + 7, 1, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	if (!strstr(err, needle))
		fail_msg("reader: message \"%s\" lacks \"%s\"", err, needle);
	assert_int_equal(proto_reader_feed(&r, input + 8, 100, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_true(strstr(err, needle) != NULL);

	/* In one feed with plenty after it. */
	proto_reader_init(&r, rbuf, cap);
	assert_int_equal(proto_reader_feed(&r, input, sizeof(input), &used, &msg,
					   err, sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, PROTO_HDR_LEN);
	assert_int_equal(r.have, PROTO_HDR_LEN);
	assert_true(strstr(err, needle) != NULL);
}

static void test_reader_rejects_headers(void **state)
{
	uint8_t h[PROTO_HDR_LEN];
	size_t big = PROTO_HDR_LEN + PROTO_MAX_BODY;

	(void)state;
	raw_header(h, 65, PROTO_ATTEST_REQ, 0);
	reader_rejects_header(h, big, "nonce of 65 bytes (want 32..64)");
	raw_header(h, 0xffffffffu, PROTO_ATTEST_RESP, 0);
	reader_rejects_header(h, big, "report of 4294967295 bytes (want 1..65536)");
	raw_header(h, REPORT_MAX_SIZE + 1, PROTO_ATTEST_RESP, 0);
	reader_rejects_header(h, big, "report of 65537 bytes");
	raw_header(h, 205, PROTO_ERROR, 0);
	reader_rejects_header(h, big, "error body of 205 bytes");
	raw_header(h, 40, 9, 0);
	reader_rejects_header(h, big, "unknown message type 9");
	raw_header(h, 40, PROTO_ATTEST_REQ, 2);
	reader_rejects_header(h, big, "reserved header field is 0x0002");
	/* Allowed by its type but bigger than this reader's buffer. */
	raw_header(h, 3000, PROTO_ATTEST_RESP, 0);
	reader_rejects_header(h, PROTO_HDR_LEN + 2999,
			      "message of 3008 bytes does not fit the reader's 3007-byte buffer");
}

static void test_reader_bad_body(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 20], rbuf[PROTO_HDR_LEN + 300];
	struct proto_reader r;
	size_t n, used;

	(void)state;
	n = proto_encode_error(PROTO_ERR_BUSY, "later", buf, sizeof(buf));
	buf[PROTO_HDR_LEN + 4 + 1] = 0x1b;
	proto_reader_init(&r, rbuf, sizeof(rbuf));
	assert_int_equal(proto_reader_feed(&r, buf, n - 1, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MORE);
	assert_int_equal(proto_reader_feed(&r, buf + n - 1, 1, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_string_equal(err, "error text byte 1 is 0x1b (want 0x20..0x7e)");
	assert_int_equal(proto_reader_feed(&r, buf, 1, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, 0);

	/* A buffer too small for even a header. */
	proto_reader_init(&r, rbuf, PROTO_HDR_LEN - 1);
	assert_int_equal(proto_reader_feed(&r, buf, n, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, 0);
}

/* The reader's buffer ends at a guard page and is exactly as large as the
 * largest message it gets: nothing is written past cap, in any chunking. */
static void test_reader_stays_in_cap(void **state)
{
	static uint8_t stream[3 * (PROTO_HDR_LEN + 100)];
	static uint8_t hostile[PROTO_HDR_LEN + 4096];
	size_t page = (size_t)sysconf(_SC_PAGESIZE), cap = PROTO_HDR_LEN + 100;
	struct guarded g;
	struct proto_reader r;
	size_t len = 0, used;
	uint64_t seed = 99;
	uint8_t *rbuf;

	(void)state;
	guarded_init(&g, cap);
	rbuf = g.map + g.map_len - page - cap;
	len += make_msg(stream + len, sizeof(stream) - len, PROTO_ATTEST_RESP, 100, 1);
	len += make_msg(stream + len, sizeof(stream) - len, PROTO_ATTEST_REQ, 33, 2);
	len += make_msg(stream + len, sizeof(stream) - len, PROTO_ATTEST_RESP, 100, 3);
	for (int round = 0; round < 50; round++) {
		size_t off = 0, got = 0;

		proto_reader_init(&r, rbuf, cap);
		while (off < len) {
			size_t chunk = 1 + xorshift64s(&seed) % 150;
			enum proto_read_status s;

			if (chunk > len - off)
				chunk = len - off;
			s = proto_reader_feed(&r, stream + off, chunk, &used, &msg,
					      err, sizeof(err));
			assert_int_not_equal(s, PROTO_READ_ERROR);
			got += s == PROTO_READ_MSG;
			off += used;
		}
		assert_int_equal(got, 3);
	}
	/* A body one byte over cap is refused before any of it is taken. */
	raw_header(hostile, 101, PROTO_ATTEST_RESP, 0);
	proto_reader_init(&r, rbuf, cap);
	assert_int_equal(proto_reader_feed(&r, hostile, sizeof(hostile), &used, &msg,
					   err, sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, PROTO_HDR_LEN);
	guarded_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_error_round_trip),
		cmocka_unit_test(test_vm_round_trips),
		cmocka_unit_test(test_vm_layouts),
		cmocka_unit_test(test_reject_vm_lengths),
		cmocka_unit_test(test_reject_vm_names),
		cmocka_unit_test(test_vm_names_accepted),
		cmocka_unit_test(test_reject_create),
		cmocka_unit_test(test_create_linux),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_secret_add),
		cmocka_unit_test(test_vm_name_helpers),
		cmocka_unit_test(test_reject_upload),
		cmocka_unit_test(test_reject_info),
		cmocka_unit_test(test_vm_other_bodies),
		cmocka_unit_test(test_reject_type),
		cmocka_unit_test(test_reject_reserved),
		cmocka_unit_test(test_reject_lengths),
		cmocka_unit_test(test_reject_size_mismatch),
		cmocka_unit_test(test_reject_error_body),
		cmocka_unit_test(test_truncation_everywhere),
		cmocka_unit_test(test_null_err),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_encode_small_cap),
		cmocka_unit_test(test_encode_error_sanitises),
		cmocka_unit_test(test_reader_byte_by_byte),
		cmocka_unit_test(test_reader_random_chunks),
		cmocka_unit_test(test_reader_back_to_back),
		cmocka_unit_test(test_reader_rejects_headers),
		cmocka_unit_test(test_reader_bad_body),
		cmocka_unit_test(test_reader_stays_in_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

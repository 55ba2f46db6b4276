/*
 * The tenant protocol codec (include/custos/proto.h, docs/protocol.md):
 * header and body checks, encoders and the incremental stream reader.
 *
 * Freestanding: only memcpy/memmove/memset from <string.h> and
 * tcb/errmsg.c. Every multi-byte field is assembled byte by byte, and a
 * header's length is checked against its type's limits before any body
 * byte is waited for or copied. Both peers are untrusted.
 */
#include <custos/proto.h>
#include <custos/guest_abi.h>
#include <custos/report.h>

#include <string.h>

#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#define PROTO_ERROR_CODE_LEN 4u
#define PROTO_ERROR_BODY_MAX (PROTO_ERROR_CODE_LEN + PROTO_ERROR_TEXT_MAX)
/* Where a field of a body struct starts (the structs have no padding:
 * include/custos/proto.h asserts their layout). */
#define OFF(s, f) offsetof(struct s, f)

_Static_assert(PROTO_MAX_BODY >= REPORT_NONCE_MAX,
	       "PROTO_MAX_BODY below the ATTEST_REQ limit");
_Static_assert(PROTO_MAX_BODY >= REPORT_MAX_SIZE,
	       "PROTO_MAX_BODY below the ATTEST_RESP limit");
_Static_assert(PROTO_MAX_BODY >= PROTO_ERROR_BODY_MAX,
	       "PROTO_MAX_BODY below the ERROR limit");
_Static_assert(PROTO_MAX_BODY >= sizeof(struct proto_vm_create) + PROTO_SECRETS_MAX +
	       PROTO_CMDLINE_MAX,
	       "PROTO_MAX_BODY below the VM_CREATE limit");
_Static_assert(PROTO_MAX_BODY >= sizeof(struct proto_vm_upload) + PROTO_CHUNK_MAX,
	       "PROTO_MAX_BODY below the VM_UPLOAD limit");
_Static_assert(PROTO_MAX_BODY >= PROTO_VM_LIST_MAX * sizeof(struct proto_vm_info),
	       "PROTO_MAX_BODY below the VM_INFO limit");
_Static_assert(PROTO_VM_NAME_MAX == HC_VM_NAME_MAX, "VM name limits differ");
_Static_assert(PROTO_SECRETS_MAX == HC_VM_SECRETS_MAX, "secrets limits differ");
_Static_assert(PROTO_SALT_LEN == HC_SALT_LEN, "salt lengths differ");
_Static_assert(PROTO_KERNEL_MAX == HC_VM_KERNEL_MAX &&
	       PROTO_INITRD_MAX == HC_VM_INITRD_MAX &&
	       PROTO_CMDLINE_MAX == HC_VM_CMDLINE_MAX, "Linux limits differ");
_Static_assert((int)PROTO_BOOT_ELF == (int)HC_BOOT_ELF &&
	       (int)PROTO_BOOT_LINUX64 == (int)HC_BOOT_LINUX64,
	       "boot protocols differ");
_Static_assert(PROTO_VM_STATE_MAX == HC_VM_SEALED, "VM states differ");
_Static_assert((uint64_t)PROTO_HDR_LEN + PROTO_MAX_BODY <= UINT32_MAX,
	       "a whole message must fit 32 bits");

static void clear_err(char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
}

/* The body length limits of a known type; false for an unknown type.
 * *unit > 1: the length must also be a multiple of it (VM_INFO). */
static bool type_limits(uint16_t type, uint32_t *min, uint32_t *max,
			uint32_t *unit, const char **what)
{
	*unit = 1;
	switch (type) {
	case PROTO_ATTEST_REQ:
		*min = REPORT_NONCE_MIN;
		*max = REPORT_NONCE_MAX;
		*what = "nonce";
		return true;
	case PROTO_ATTEST_RESP:
		*min = 1;
		*max = REPORT_MAX_SIZE;
		*what = "report";
		return true;
	case PROTO_ERROR:
		*min = PROTO_ERROR_CODE_LEN;
		*max = PROTO_ERROR_BODY_MAX;
		*what = "error body";
		return true;
	case PROTO_VM_CREATE:
		*min = sizeof(struct proto_vm_create);
		*max = sizeof(struct proto_vm_create) + PROTO_SECRETS_MAX +
		       PROTO_CMDLINE_MAX;
		*what = "VM_CREATE body";
		return true;
	case PROTO_VM_UPLOAD:
		*min = sizeof(struct proto_vm_upload) + 1;
		*max = sizeof(struct proto_vm_upload) + PROTO_CHUNK_MAX;
		*what = "VM_UPLOAD body";
		return true;
	case PROTO_VM_START:
		*min = *max = sizeof(struct proto_vm_start);
		*what = "VM_START body";
		return true;
	case PROTO_VM_STOP:
	case PROTO_VM_DESTROY:
	case PROTO_VM_STATUS:
	case PROTO_VM_CONSOLE:
		*min = *max = sizeof(struct proto_vm_name);
		*what = type == PROTO_VM_STOP ? "VM_STOP body" :
			type == PROTO_VM_DESTROY ? "VM_DESTROY body" :
			type == PROTO_VM_STATUS ? "VM_STATUS body" :
						  "VM_CONSOLE body";
		return true;
	case PROTO_VM_CONSOLE_INPUT:
		*min = sizeof(struct proto_vm_name) + 1;
		*max = sizeof(struct proto_vm_name) + PROTO_CONSOLE_INPUT_MAX;
		*what = "VM_CONSOLE_INPUT body";
		return true;
	case PROTO_VM_INPUT_TAKEN:
		*min = *max = 4;
		*what = "VM_INPUT_TAKEN body";
		return true;
	case PROTO_VM_LIST:
		*min = *max = 0;
		*what = "VM_LIST body";
		return true;
	case PROTO_WAIT:
		*min = *max = 0;
		*what = "WAIT body";
		return true;
	case PROTO_VM_INFO:
		*min = 0;
		*max = PROTO_VM_LIST_MAX * sizeof(struct proto_vm_info);
		*unit = sizeof(struct proto_vm_info);
		*what = "VM_INFO body";
		return true;
	case PROTO_VM_CONSOLE_DATA:
		*min = 0;
		*max = PROTO_CHUNK_MAX;
		*what = "VM_CONSOLE_DATA body";
		return true;
	default:
		return false;
	}
}

/* Is a body of len bytes allowed for type? (len is a size_t so that the
 * encoders can ask before narrowing.) */
static int check_len(uint16_t type, size_t len, char *err, size_t err_len)
{
	uint32_t min, max, unit;
	const char *what;

	if (!type_limits(type, &min, &max, &unit, &what))
		return errmsg(err, err_len, "unknown message type %u",
			      (unsigned)type);
	if (unit > 1 && (len > max || len % unit))
		return errmsg(err, err_len,
			      "%s of %zu bytes (want a multiple of %u, 0..%u)",
			      what, len, (unsigned)unit, (unsigned)max);
	if (min == max && len != min)
		return errmsg(err, err_len, "%s of %zu bytes (want %u)", what,
			      len, (unsigned)min);
	if (len < min || len > max)
		return errmsg(err, err_len, "%s of %zu bytes (want %u..%u)",
			      what, len, (unsigned)min, (unsigned)max);
	return 0;
}

static bool error_code_known(uint32_t code)
{
	return code >= PROTO_ERR_BAD_REQUEST && code <= PROTO_ERR_TOO_LARGE;
}

/* ---- VM names and secrets ------------------------------------------------- */

static bool name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

static bool key_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static bool printable(uint8_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Check a name field; what prefixes the reason ("VM name", "VM_INFO record
 * 3: VM name"). */
static int check_name(const uint8_t *n, const char *what, size_t rec,
		      char *err, size_t err_len)
{
	char pre[32];
	size_t len = 0;

	pre[0] = '\0';
	if (rec != (size_t)-1)
		errmsg(pre, sizeof(pre), "VM_INFO record %zu: ", rec);
	while (len < PROTO_VM_NAME_MAX && n[len])
		len++;
	if (len == PROTO_VM_NAME_MAX)
		return errmsg(err, err_len,
			      "%s%s is not NUL-terminated within %u bytes", pre,
			      what, PROTO_VM_NAME_MAX);
	if (len == 0)
		return errmsg(err, err_len, "%s%s is empty (want 1..%u bytes)",
			      pre, what, PROTO_VM_NAME_MAX - 1);
	for (size_t i = 0; i < len; i++)
		if (!name_char(n[i]))
			return errmsg(err, err_len,
				      "%s%s byte %zu is 0x%02x (want a-z, 0-9, _ or -)",
				      pre, what, i, (unsigned)n[i]);
	for (size_t i = len + 1; i < PROTO_VM_NAME_MAX; i++)
		if (n[i])
			return errmsg(err, err_len,
				      "%s%s byte %zu after its NUL is 0x%02x (want NUL padding)",
				      pre, what, i, (unsigned)n[i]);
	return 0;
}

bool proto_vm_name_ok(const char name[PROTO_VM_NAME_MAX])
{
	return name && check_name((const uint8_t *)name, "VM name", (size_t)-1,
				  NULL, 0) == 0;
}

const char *proto_vm_state_name(uint32_t state)
{
	switch (state) {
	case 0: return "destroyed";
	case HC_VM_CREATED: return "created";
	case HC_VM_LOADED: return "loaded";
	case HC_VM_RUNNING: return "running";
	case HC_VM_EXITED: return "exited";
	case HC_VM_SEALED: return "sealed";
	default: return "unknown";
	}
}

int proto_vm_name_set(char out[PROTO_VM_NAME_MAX], const char *s)
{
	size_t len = 0;

	if (!out || !s)
		return -1;
	while (len < PROTO_VM_NAME_MAX && s[len]) {
		if (!name_char((uint8_t)s[len]))
			return -1;
		len++;
	}
	if (len == 0 || len == PROTO_VM_NAME_MAX)
		return -1;
	memset(out, 0, PROTO_VM_NAME_MAX);
	memcpy(out, s, len);
	return 0;
}

/* One "KEY=VALUE\0" string at p[at..len): its key length and its size with
 * the NUL, or -1 and a reason. */
static int secret_entry(const uint8_t *p, size_t len, size_t at,
			size_t *key_len, size_t *size, char *err, size_t err_len)
{
	size_t k = 0, v = 0, i = at;

	for (; i < len && p[i] != '='; i++, k++) {
		if (p[i] == '\0')
			return errmsg(err, err_len,
				      "secret at byte %zu has no '=' (want KEY=VALUE)",
				      at);
		if (!key_char(p[i]))
			return errmsg(err, err_len,
				      "secret at byte %zu: key byte %zu is 0x%02x (want A-Z, a-z, 0-9 or _)",
				      at, k, (unsigned)p[i]);
		if (k == PROTO_SECRET_KEY_MAX)
			return errmsg(err, err_len,
				      "secret at byte %zu: key longer than %u bytes",
				      at, PROTO_SECRET_KEY_MAX);
	}
	if (i == len)
		return errmsg(err, err_len,
			      "secret at byte %zu is not NUL-terminated", at);
	if (k == 0)
		return errmsg(err, err_len, "secret at byte %zu: empty key", at);
	for (i++; i < len && p[i]; i++, v++) {
		if (!printable(p[i]))
			return errmsg(err, err_len,
				      "secret at byte %zu: value byte %zu is 0x%02x (want 0x20..0x7e)",
				      at, v, (unsigned)p[i]);
		if (v == PROTO_SECRET_VALUE_MAX)
			return errmsg(err, err_len,
				      "secret at byte %zu: value longer than %u bytes",
				      at, PROTO_SECRET_VALUE_MAX);
	}
	if (i == len)
		return errmsg(err, err_len,
			      "secret at byte %zu is not NUL-terminated", at);
	*key_len = k;
	*size = i + 1 - at;
	return 0;
}

static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Is key (k bytes) the key of a secret in the valid block p[0..end)? Its
 * offset in *at. */
static bool key_in(const uint8_t *p, size_t end, const uint8_t *key, size_t k,
		   size_t *at)
{
	for (size_t off = 0; off < end;) {
		size_t klen = 0, n = off;

		while (p[n] != '=')
			n++, klen++;
		if (klen == k && same_bytes(p + off, key, k)) {
			*at = off;
			return true;
		}
		while (p[n])
			n++;
		off = n + 1;
	}
	return false;
}

int proto_secrets_check(const uint8_t *p, size_t len, char *err,
			size_t err_len)
{
	clear_err(err, err_len);
	if (len > PROTO_SECRETS_MAX)
		return errmsg(err, err_len, "secrets of %zu bytes (want 0..%u)",
			      len, PROTO_SECRETS_MAX);
	if (len && !p)
		return errmsg(err, err_len, "secrets of %zu bytes but no buffer",
			      len);
	for (size_t at = 0; at < len;) {
		size_t k, size, first;

		if (secret_entry(p, len, at, &k, &size, err, err_len))
			return -1;
		if (key_in(p, at, p + at, k, &first))
			return errmsg(err, err_len,
				      "secret at byte %zu: duplicate key (first at byte %zu)",
				      at, first);
		at += size;
	}
	return 0;
}

int proto_secret_add(uint8_t *buf, size_t cap, size_t *len,
		     const char *key_eq_value)
{
	const size_t most = PROTO_SECRET_KEY_MAX + 1 + PROTO_SECRET_VALUE_MAX + 1;
	const uint8_t *s = (const uint8_t *)key_eq_value;
	size_t n = 0, k, size, first;

	if (!buf || !len || !s || *len > cap ||
	    proto_secrets_check(buf, *len, NULL, 0))
		return -1;
	while (n < most && s[n])
		n++;
	if (n == most || secret_entry(s, n + 1, 0, &k, &size, NULL, 0) ||
	    key_in(buf, *len, s, k, &first))
		return -1;
	if (size > cap - *len || *len + size > PROTO_SECRETS_MAX)
		return -1;
	memcpy(buf + *len, s, size);
	*len += size;
	return 0;
}

/* ---- Bodies --------------------------------------------------------------- */

static int check_create(const uint8_t *b, size_t len, char *err, size_t err_len)
{
	uint64_t mem = load_le64(b + OFF(proto_vm_create, mem_size)),
		 image = load_le64(b + OFF(proto_vm_create, image_len)),
		 init = load_le64(b + OFF(proto_vm_create, init_len));
	uint32_t slen = load_le32(b + OFF(proto_vm_create, secrets_len)),
		 reserved = load_le32(b + OFF(proto_vm_create, reserved)),
		 boot = load_le32(b + OFF(proto_vm_create, boot_protocol)),
		 clen = load_le32(b + OFF(proto_vm_create, cmdline_len));
	uint64_t initrd = load_le64(b + OFF(proto_vm_create, initrd_len));
	size_t hdr = sizeof(struct proto_vm_create);
	const uint8_t *cmd;

	if (check_name(b, "VM name", (size_t)-1, err, err_len))
		return -1;
	if (mem < PROTO_VM_MEM_ALIGN || mem > PROTO_VM_MEM_MAX ||
	    mem % PROTO_VM_MEM_ALIGN)
		return errmsg(err, err_len,
			      "VM_CREATE mem_size %llu (want a multiple of 2 MiB, 2 MiB..1 GiB)",
			      (unsigned long long)mem);
	if (boot != PROTO_BOOT_ELF && boot != PROTO_BOOT_LINUX64)
		return errmsg(err, err_len,
			      "VM_CREATE boot_protocol %u (want 0 ELF or 1 Linux)",
			      (unsigned)boot);
	if (boot == PROTO_BOOT_LINUX64) {
		if (image < 1 || image > PROTO_KERNEL_MAX)
			return errmsg(err, err_len,
				      "VM_CREATE kernel image_len %llu (want 1..%u)",
				      (unsigned long long)image, PROTO_KERNEL_MAX);
		if (initrd > PROTO_INITRD_MAX)
			return errmsg(err, err_len,
				      "VM_CREATE initrd_len %llu (want 0..%u)",
				      (unsigned long long)initrd, PROTO_INITRD_MAX);
		if (clen > PROTO_CMDLINE_MAX)
			return errmsg(err, err_len,
				      "VM_CREATE cmdline_len %u (want 0..%u)",
				      (unsigned)clen, PROTO_CMDLINE_MAX);
		if (init || slen)
			return errmsg(err, err_len,
				      "VM_CREATE of a Linux VM with init data or secrets");
	} else if (initrd || clen) {
		return errmsg(err, err_len,
			      "VM_CREATE of an ELF VM with an initrd or command line");
	}
	if (boot == PROTO_BOOT_ELF && (image < 1 || image > HC_VM_IMAGE_MAX))
		return errmsg(err, err_len,
			      "VM_CREATE image_len %llu (want 1..%u)",
			      (unsigned long long)image, HC_VM_IMAGE_MAX);
	if (init > HC_VM_INIT_MAX)
		return errmsg(err, err_len,
			      "VM_CREATE init_len %llu (want 0..%u)",
			      (unsigned long long)init, HC_VM_INIT_MAX);
	if (slen > PROTO_SECRETS_MAX)
		return errmsg(err, err_len,
			      "VM_CREATE secrets_len %u (want 0..%u)",
			      (unsigned)slen, PROTO_SECRETS_MAX);
	if ((uint64_t)slen + clen != len - hdr)
		return errmsg(err, err_len,
			      "VM_CREATE secrets_len %u and cmdline_len %u, but %zu "
			      "bytes follow the struct",
			      (unsigned)slen, (unsigned)clen, len - hdr);
	if (reserved)
		return errmsg(err, err_len,
			      "VM_CREATE reserved field is 0x%08x (must be 0)",
			      (unsigned)reserved);
	cmd = b + hdr + slen;
	for (uint32_t i = 0; i + 1 < clen; i++)
		if (cmd[i] == 0)
			return errmsg(err, err_len, "VM_CREATE command line has a NUL inside");
	if (clen && cmd[clen - 1] != 0)
		return errmsg(err, err_len, "VM_CREATE command line not NUL-terminated");
	return proto_secrets_check(b + hdr, slen, err, err_len);
}

static int check_upload(const uint8_t *b, char *err, size_t err_len)
{
	uint32_t part = load_le32(b + OFF(proto_vm_upload, part)),
		 reserved = load_le32(b + OFF(proto_vm_upload, reserved));

	if (check_name(b, "VM name", (size_t)-1, err, err_len))
		return -1;
	if (part != PROTO_PART_IMAGE && part != PROTO_PART_INIT_DATA &&
	    part != PROTO_PART_INITRD)
		return errmsg(err, err_len,
			      "VM_UPLOAD part %u (want 1 image, 2 init data or 3 initrd)",
			      (unsigned)part);
	if (reserved)
		return errmsg(err, err_len,
			      "VM_UPLOAD reserved field is 0x%08x (must be 0)",
			      (unsigned)reserved);
	return 0;
}

static int check_start(const uint8_t *b, char *err, size_t err_len)
{
	uint32_t mode = load_le32(b + OFF(proto_vm_start, mode)),
		 reserved = load_le32(b + OFF(proto_vm_start, reserved));

	if (check_name(b, "VM name", (size_t)-1, err, err_len))
		return -1;
	if (mode > PROTO_START_AFRESH)
		return errmsg(err, err_len, "VM_START mode %u (want 0..%u)",
			      (unsigned)mode, PROTO_START_AFRESH);
	if (reserved)
		return errmsg(err, err_len,
			      "VM_START reserved field is 0x%08x (must be 0)",
			      (unsigned)reserved);
	return 0;
}

static int check_info(const uint8_t *b, size_t len, char *err, size_t err_len)
{
	const size_t rec = sizeof(struct proto_vm_info);

	for (size_t r = 0; r < len / rec; r++) {
		const uint8_t *p = b + r * rec;
		uint32_t state = load_le32(p + OFF(proto_vm_info, state)),
			 flags = load_le32(p + OFF(proto_vm_info, flags));
		const uint8_t *why = p + OFF(proto_vm_info, stop_reason);
		const size_t why_max = sizeof(((struct proto_vm_info *)0)->stop_reason);
		size_t n = 0;

		if (check_name(p, "VM name", r, err, err_len))
			return -1;
		if (state > PROTO_VM_STATE_MAX)
			return errmsg(err, err_len,
				      "VM_INFO record %zu: state %u (want 0..%u)",
				      r, (unsigned)state, PROTO_VM_STATE_MAX);
		if (flags & ~PROTO_VM_INFO_FLAGS)
			return errmsg(err, err_len,
				      "VM_INFO record %zu: flags 0x%08x (want bits of 0x%x)",
				      r, (unsigned)flags, PROTO_VM_INFO_FLAGS);
		while (n < why_max && why[n]) {
			if (!printable(why[n]))
				return errmsg(err, err_len,
					      "VM_INFO record %zu: stop_reason byte %zu is 0x%02x (want 0x20..0x7e)",
					      r, n, (unsigned)why[n]);
			n++;
		}
		if (n == why_max)
			return errmsg(err, err_len,
				      "VM_INFO record %zu: stop_reason is not NUL-terminated within %zu bytes",
				      r, why_max);
	}
	return 0;
}

/* The structure of a body whose length check_len() has accepted. A nonce
 * and a report are opaque here (the report is verified by its reader), and
 * so are upload data and console bytes. */
static int check_body(uint16_t type, const uint8_t *body, size_t len,
		      char *err, size_t err_len)
{
	uint32_t code;

	switch (type) {
	case PROTO_ERROR:
		break;
	case PROTO_VM_CREATE:
		return check_create(body, len, err, err_len);
	case PROTO_VM_UPLOAD:
		return check_upload(body, err, err_len);
	case PROTO_VM_START:
		return check_start(body, err, err_len);
	case PROTO_VM_STOP:
	case PROTO_VM_DESTROY:
	case PROTO_VM_STATUS:
	case PROTO_VM_CONSOLE:
	case PROTO_VM_CONSOLE_INPUT:
		return check_name(body, "VM name", (size_t)-1, err, err_len);
	case PROTO_VM_INPUT_TAKEN:
		if (load_le32(body) > PROTO_CONSOLE_INPUT_MAX)
			return errmsg(err, err_len, "VM_INPUT_TAKEN of %u bytes "
				      "(want 0..%u)", (unsigned)load_le32(body),
				      PROTO_CONSOLE_INPUT_MAX);
		return 0;
	case PROTO_VM_INFO:
		return check_info(body, len, err, err_len);
	default:
		return 0;
	}
	code = load_le32(body);
	if (!error_code_known(code))
		return errmsg(err, err_len, "unknown error code %u",
			      (unsigned)code);
	for (size_t i = PROTO_ERROR_CODE_LEN; i < len; i++)
		if (body[i] < 0x20 || body[i] > 0x7e)
			return errmsg(err, err_len,
				      "error text byte %zu is 0x%02x (want 0x20..0x7e)",
				      i - PROTO_ERROR_CODE_LEN, (unsigned)body[i]);
	return 0;
}

/* ---- Parsing -------------------------------------------------------------- */

int proto_parse_header(const uint8_t hdr[PROTO_HDR_LEN], uint16_t *type,
		       uint32_t *len, char *err, size_t err_len)
{
	uint32_t blen = load_le32(hdr);
	uint16_t t = load_le16(hdr + 4), reserved = load_le16(hdr + 6);

	clear_err(err, err_len);
	if (check_len(t, blen, err, err_len))
		return -1;
	if (reserved)
		return errmsg(err, err_len,
			      "reserved header field is 0x%04x (must be 0)",
			      (unsigned)reserved);
	*type = t;
	*len = blen;
	return 0;
}

int proto_parse(const uint8_t *buf, size_t len, struct proto_msg *out,
		char *err, size_t err_len)
{
	uint16_t type;
	uint32_t blen;

	clear_err(err, err_len);
	if (len < PROTO_HDR_LEN)
		return errmsg(err, err_len,
			      "message of %zu bytes is shorter than its %u-byte header",
			      len, PROTO_HDR_LEN);
	if (proto_parse_header(buf, &type, &blen, err, err_len))
		return -1;
	if (len - PROTO_HDR_LEN != blen)
		return errmsg(err, err_len,
			      "message of %zu bytes, but its header says %u + %u",
			      len, PROTO_HDR_LEN, (unsigned)blen);
	if (check_body(type, buf + PROTO_HDR_LEN, blen, err, err_len))
		return -1;
	out->type = type;
	out->len = blen;
	out->body = buf + PROTO_HDR_LEN;
	return 0;
}

/* ---- Encoding ------------------------------------------------------------- */

void proto_write_header(uint8_t hdr[PROTO_HDR_LEN], uint16_t type, uint32_t len)
{
	store_le32(hdr, len);
	store_le16(hdr + 4, type);
	store_le16(hdr + 6, 0);
}

size_t proto_encode(uint16_t type, const void *body, size_t len, uint8_t *buf,
		    size_t cap)
{
	if (check_len(type, len, NULL, 0) || (!body && len) || !buf ||
	    cap < PROTO_HDR_LEN || cap - PROTO_HDR_LEN < len ||
	    check_body(type, body, len, NULL, 0))
		return 0;
	proto_write_header(buf, type, (uint32_t)len);
	if (len)
		memcpy(buf + PROTO_HDR_LEN, body, len);
	return PROTO_HDR_LEN + len;
}

size_t proto_encode_error(uint32_t code, const char *text, uint8_t *buf,
			  size_t cap)
{
	uint8_t body[PROTO_ERROR_BODY_MAX];
	size_t n = 0;

	store_le32(body, code);
	for (; text && n < PROTO_ERROR_TEXT_MAX && text[n]; n++) {
		uint8_t c = (uint8_t)text[n];

		body[PROTO_ERROR_CODE_LEN + n] = c >= 0x20 && c <= 0x7e ? c : '?';
	}
	return proto_encode(PROTO_ERROR, body, PROTO_ERROR_CODE_LEN + n, buf,
			    cap);
}

/* ---- Stream reader -------------------------------------------------------- */

void proto_reader_init(struct proto_reader *r, uint8_t *buf, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->cap = cap;
}

/* Take up to want - r->have bytes of the input into the buffer. */
static void take(struct proto_reader *r, size_t want, const uint8_t **data,
		 size_t *len, size_t *used)
{
	size_t n = r->have < want ? want - r->have : 0;

	if (n > *len)
		n = *len;
	if (n) {
		memcpy(r->buf + r->have, *data, n);
		r->have += n;
		*data += n;
		*len -= n;
		*used += n;
	}
}

/* Forget the message returned last time. The reader never takes bytes past
 * the end of a message, so nothing follows it today; anything that did
 * would be moved to the front. */
static void discard_delivered(struct proto_reader *r)
{
	size_t n = PROTO_HDR_LEN + (size_t)load_le32(r->buf);

	if (n > r->have)
		n = r->have;
	memmove(r->buf, r->buf + n, r->have - n);
	r->have -= n;
	r->deliver_pending = false;
}

enum proto_read_status proto_reader_feed(struct proto_reader *r,
					 const uint8_t *data, size_t len,
					 size_t *used, struct proto_msg *msg,
					 char *err, size_t err_len)
{
	uint16_t type;
	uint32_t blen;
	size_t total;

	*used = 0;
	clear_err(err, err_len);
	if (r->deliver_pending)
		discard_delivered(r);
	if (!r->buf || r->cap < PROTO_HDR_LEN) {
		errmsg(err, err_len, "reader buffer of %zu bytes is below the %u-byte header",
		       r->cap, PROTO_HDR_LEN);
		return PROTO_READ_ERROR;
	}
	if (!data)
		len = 0;
	take(r, PROTO_HDR_LEN, &data, &len, used);
	if (r->have < PROTO_HDR_LEN)
		return PROTO_READ_MORE;
	/* The header is judged before any of its body is waited for. */
	if (proto_parse_header(r->buf, &type, &blen, err, err_len))
		return PROTO_READ_ERROR;
	total = PROTO_HDR_LEN + (size_t)blen;
	if (total > r->cap) {
		errmsg(err, err_len,
		       "message of %zu bytes does not fit the reader's %zu-byte buffer",
		       total, r->cap);
		return PROTO_READ_ERROR;
	}
	take(r, total, &data, &len, used);
	if (r->have < total)
		return PROTO_READ_MORE;
	if (proto_parse(r->buf, total, msg, err, err_len))
		return PROTO_READ_ERROR;
	r->deliver_pending = true;
	return PROTO_READ_MSG;
}

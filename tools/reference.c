/*
 * reference.json reader and comparison (tools/reference.h). The parser is
 * recursive descent over a bounded buffer: every read checks the end first,
 * nesting is limited (skip_value), strings have fixed capacities, numbers
 * are small unsigned integers.
 */
#include "tcb/errmsg.h"
#include "tools/reference.h"
#include "tools/cli.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tcb/tcg_log.h"

#define MAX_DEPTH 16

struct jp {
	const char *s;
	size_t len, pos;
	char *err;
	size_t err_len;
};

static int jfail(struct jp *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int jfail(struct jp *j, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (j->err && j->err_len)
		snprintf(j->err, j->err_len, "%s (at byte %zu)", msg, j->pos);
	return -1;
}

static void ws(struct jp *j)
{
	while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
				   j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
		j->pos++;
}

/* The next non-space byte, or -1 at the end. */
static int peek(struct jp *j)
{
	ws(j);
	return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

static int expect(struct jp *j, char c)
{
	if (peek(j) != (unsigned char)c)
		return jfail(j, "expected '%c'", c);
	j->pos++;
	return 0;
}

/* A string into out (cap bytes with the NUL; out may be NULL to skip).
 * Escapes: \" \\ \/ \b \f \n \r \t and \u00XX for XX < 0x80; anything
 * beyond ASCII is refused (nothing in the format needs it). */
static int string(struct jp *j, char *out, size_t cap, size_t *out_len)
{
	size_t n = 0;

	if (expect(j, '"'))
		return -1;
	for (;;) {
		unsigned char c;

		if (j->pos >= j->len)
			return jfail(j, "unterminated string");
		c = (unsigned char)j->s[j->pos++];
		if (c == '"')
			break;
		if (c < 0x20 || c >= 0x80)
			return jfail(j, "control or non-ASCII byte in a string");
		if (c == '\\') {
			if (j->pos >= j->len)
				return jfail(j, "unterminated string");
			c = (unsigned char)j->s[j->pos++];
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				int v = 0;

				if (j->len - j->pos < 4)
					return jfail(j, "short \\u escape");
				for (int i = 0; i < 4; i++) {
					int h = cli_hexval(j->s[j->pos + (size_t)i]);

					if (h < 0)
						return jfail(j, "bad \\u escape");
					v = v << 4 | h;
				}
				j->pos += 4;
				if (v == 0 || v >= 0x80)
					return jfail(j, "\\u escape outside ASCII 1..127");
				c = (unsigned char)v;
				break;
			}
			default:
				return jfail(j, "bad escape");
			}
		}
		if (out) {
			if (n + 1 >= cap)
				return jfail(j, "string longer than %zu bytes", cap - 1);
			out[n] = (char)c;
		}
		n++;
	}
	if (out)
		out[n] = '\0';
	if (out_len)
		*out_len = n;
	return 0;
}

/* An unsigned integer of at most 9 digits (no sign, fraction, exponent). */
static int number(struct jp *j, uint32_t *v)
{
	size_t start;
	uint32_t x = 0;

	ws(j);
	start = j->pos;
	while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
		if (j->pos - start == 9)
			return jfail(j, "number too large");
		x = x * 10 + (uint32_t)(j->s[j->pos] - '0');
		j->pos++;
	}
	if (j->pos == start)
		return jfail(j, "expected an unsigned integer");
	if (j->s[start] == '0' && j->pos - start > 1)
		return jfail(j, "number with a leading zero");
	if (j->pos < j->len && (j->s[j->pos] == '.' || j->s[j->pos] == 'e' ||
				j->s[j->pos] == 'E'))
		return jfail(j, "expected an unsigned integer");
	*v = x;
	return 0;
}

static int literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
		return jfail(j, "unexpected value");
	j->pos += n;
	return 0;
}

/* Any JSON value (for unknown keys), at most MAX_DEPTH deep. */
static int skip_value(struct jp *j, int depth)
{
	int c = peek(j);

	if (depth > MAX_DEPTH)
		return jfail(j, "nested too deeply");
	if (c == '"')
		return string(j, NULL, 0, NULL);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';

		j->pos++;
		if (peek(j) == close) {
			j->pos++;
			return 0;
		}
		for (;;) {
			if (c == '{' && (string(j, NULL, 0, NULL) || expect(j, ':')))
				return -1;
			if (skip_value(j, depth + 1))
				return -1;
			if (peek(j) == ',') {
				j->pos++;
				continue;
			}
			return expect(j, close);
		}
	}
	if (c == 't')
		return literal(j, "true");
	if (c == 'f')
		return literal(j, "false");
	if (c == 'n')
		return literal(j, "null");
	if (c == '-' || (c >= '0' && c <= '9')) {
		/* A number we do not read: its characters, loosely. */
		size_t start = j->pos;

		while (j->pos < j->len && j->s[j->pos] != '\0' &&
		       strchr("+-.eE0123456789", j->s[j->pos]))
			j->pos++;
		return j->pos > start ? 0 : jfail(j, "bad number");
	}
	return jfail(j, "expected a value");
}

static const struct {
	uint32_t type;
	const char *name;
} event_types[] = {
	{ TCG_EV_IPL, "EV_IPL" },
	{ TCG_EV_NO_ACTION, "EV_NO_ACTION" },
};

const char *reference_event_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		if (event_types[i].type == type)
			return event_types[i].name;
	return NULL;
}

static bool printable(const char *s, size_t n, char lo)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < lo || s[i] > 0x7e)
			return false;
	return true;
}

/* Object members: each key once; calls member() for each. */
typedef int (*member_fn)(struct jp *j, const char *key, void *ctx,
			 unsigned *seen);

static int object(struct jp *j, member_fn member, void *ctx, unsigned *seen)
{
	char key[32];

	if (expect(j, '{'))
		return -1;
	if (peek(j) == '}') {
		j->pos++;
		return 0;
	}
	for (;;) {
		if (peek(j) != '"')
			return jfail(j, "expected a key");
		if (string(j, key, sizeof(key), NULL) != 0)
			return jfail(j, "unknown or overlong key");
		if (expect(j, ':') || member(j, key, ctx, seen))
			return -1;
		if (peek(j) == ',') {
			j->pos++;
			continue;
		}
		return expect(j, '}');
	}
}

/* Mark key bit; a second time is an error. */
static int once(struct jp *j, unsigned *seen, unsigned bit, const char *key)
{
	if (*seen & bit)
		return jfail(j, "key \"%s\" appears twice", key);
	*seen |= bit;
	return 0;
}

enum { K_PCR = 1, K_TYPE = 2, K_DESC = 4, K_SHA = 8, K_EVENT_ALL = 15 };
enum { K_FORMAT = 1, K_PLATFORM = 2, K_MEAS = 4, K_TOP_ALL = 7, K_BOOT_VMS = 8,
       K_LAUNCH = 16 };
enum { K_L_KERNEL = 1, K_L_SHA = 2, K_L_CMDLINE = 4, K_L_ALL = 7 };
enum { K_VM_NAME = 1, K_VM_SHA = 2, K_VM_ALL = 3 };

/* 96 hex digits into a digest. */
static int sha384_hex(struct jp *j, uint8_t digest[MEASURE_DIGEST_LEN])
{
	char buf[2 * MEASURE_DIGEST_LEN + 2];
	size_t n;

	if (string(j, buf, sizeof(buf), &n))
		return -1;
	if (n != 2 * MEASURE_DIGEST_LEN)
		return jfail(j, "sha384 is not %u hex digits", 2 * MEASURE_DIGEST_LEN);
	for (size_t i = 0; i < MEASURE_DIGEST_LEN; i++) {
		int hi = cli_hexval(buf[2 * i]), lo = cli_hexval(buf[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return jfail(j, "sha384 is not hex");
		digest[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool reference_values_match(const struct reference_values *v,
			    const uint8_t digest[MEASURE_DIGEST_LEN])
{
	for (size_t i = 0; i < v->count; i++)
		if (memcmp(v->sha384[i], digest, MEASURE_DIGEST_LEN) == 0)
			return true;
	return false;
}

/* The next value into v: refused if v is full or already has it (a
 * duplicate is a mistake in the file, never a second chance). */
static int sha384_value(struct jp *j, struct reference_values *v)
{
	uint8_t d[MEASURE_DIGEST_LEN];

	if (v->count == REFERENCE_VALUES_MAX)
		return jfail(j, "more than %u sha384 values", REFERENCE_VALUES_MAX);
	if (sha384_hex(j, d))
		return -1;
	if (reference_values_match(v, d))
		return jfail(j, "the same sha384 value is listed twice");
	memcpy(v->sha384[v->count++], d, MEASURE_DIGEST_LEN);
	return 0;
}

/* "sha384": one hex string, or a non-empty list of them. */
static int sha384_values(struct jp *j, struct reference_values *v)
{
	if (peek(j) != '[')
		return sha384_value(j, v);
	j->pos++;
	if (peek(j) == ']')
		return jfail(j, "an empty list of sha384 values accepts nothing");
	for (;;) {
		if (sha384_value(j, v))
			return -1;
		if (peek(j) != ',')
			return expect(j, ']');
		j->pos++;
	}
}

static bool vm_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > REFERENCE_BOOT_VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static int event_member(struct jp *j, const char *key, void *ctx,
			unsigned *seen)
{
	struct reference_event *e = ctx;
	char buf[2 * MEASURE_DIGEST_LEN + 2];
	size_t n;

	if (strcmp(key, "pcr") == 0) {
		if (once(j, seen, K_PCR, key) || number(j, &e->pcr))
			return -1;
		if (e->pcr >= TCG_PCR_COUNT)
			return jfail(j, "PCR %u does not exist", e->pcr);
		return 0;
	}
	if (strcmp(key, "type") == 0) {
		if (once(j, seen, K_TYPE, key) || string(j, buf, sizeof(buf), NULL))
			return -1;
		for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++) {
			if (strcmp(buf, event_types[i].name) == 0) {
				e->event_type = event_types[i].type;
				return 0;
			}
		}
		return jfail(j, "unknown event type");
	}
	if (strcmp(key, "description") == 0) {
		if (once(j, seen, K_DESC, key) ||
		    string(j, e->desc, sizeof(e->desc), &n))
			return -1;
		if (!printable(e->desc, n, 0x20))
			return jfail(j, "description is not printable ASCII");
		return 0;
	}
	if (strcmp(key, "sha384") == 0)
		return once(j, seen, K_SHA, key) || sha384_values(j, &e->values) ? -1 : 0;
	return skip_value(j, 1);
}

static int boot_vm_member(struct jp *j, const char *key, void *ctx,
			  unsigned *seen)
{
	struct reference_boot_vm *v = ctx;
	size_t n;

	if (strcmp(key, "name") == 0) {
		if (once(j, seen, K_VM_NAME, key) ||
		    string(j, v->name, sizeof(v->name), &n))
			return -1;
		if (!vm_name_ok(v->name, n))
			return jfail(j, "boot VM name must be 1..%u of a-z 0-9 _ -",
				     REFERENCE_BOOT_VM_NAME_MAX);
		return 0;
	}
	if (strcmp(key, "sha384") == 0)
		return once(j, seen, K_VM_SHA, key) || sha384_values(j, &v->values) ? -1 : 0;
	return skip_value(j, 1);
}

static int launch_member(struct jp *j, const char *key, void *ctx,
			 unsigned *seen)
{
	struct reference_launch *l = ctx;
	size_t n;

	if (strcmp(key, "kernel") == 0) {
		if (once(j, seen, K_L_KERNEL, key) ||
		    string(j, l->kernel, sizeof(l->kernel), &n))
			return -1;
		if (n == 0 || l->kernel[0] != '/' || !printable(l->kernel, n, 0x21))
			return jfail(j, "launch kernel must be an absolute path of "
				     "printable characters without spaces");
		return 0;
	}
	if (strcmp(key, "kernel_sha384") == 0)
		return once(j, seen, K_L_SHA, key) ||
		       sha384_values(j, &l->kernel_sha384) ? -1 : 0;
	if (strcmp(key, "kernel_cmdline") == 0) {
		if (once(j, seen, K_L_CMDLINE, key) ||
		    string(j, l->kernel_cmdline, sizeof(l->kernel_cmdline), &n))
			return -1;
		if (!printable(l->kernel_cmdline, n, 0x20))
			return jfail(j, "launch kernel_cmdline must be printable");
		return 0;
	}
	return skip_value(j, 1);
}

static int launch(struct jp *j, struct reference *r)
{
	unsigned seen = 0;

	if (object(j, launch_member, &r->launch, &seen))
		return -1;
	if ((seen & K_L_ALL) != K_L_ALL)
		return jfail(j, "launch lacks %s", !(seen & K_L_KERNEL) ? "\"kernel\"" :
			     !(seen & K_L_SHA) ? "\"kernel_sha384\"" :
			     "\"kernel_cmdline\"");
	r->launch.present = true;
	return 0;
}

/* A JSON array of at most MEASURE_MAX_EVENTS objects, each read by member
 * into the next item (zeroed first) and complete only when its seen bits
 * are all; lacks(seen) names the first missing key. */
struct object_list {
	member_fn member;
	void *items;
	size_t item_size, *count;
	unsigned all;
	const char *what, *plural; /* "measurement", "measurements" */
	const char *(*lacks)(unsigned seen);
};

static int object_list(struct jp *j, const struct object_list *l)
{
	if (expect(j, '['))
		return -1;
	if (peek(j) == ']') {
		j->pos++;
		return 0;
	}
	for (;;) {
		uint8_t *item = (uint8_t *)l->items + *l->count * l->item_size;
		unsigned seen = 0;

		if (*l->count == MEASURE_MAX_EVENTS)
			return jfail(j, "more than %u %s", MEASURE_MAX_EVENTS, l->plural);
		memset(item, 0, l->item_size);
		if (object(j, l->member, item, &seen))
			return -1;
		if (seen != l->all)
			return jfail(j, "%s %zu lacks %s", l->what, *l->count,
				     l->lacks(seen));
		(*l->count)++;
		if (peek(j) == ',') {
			j->pos++;
			continue;
		}
		return expect(j, ']');
	}
}

static const char *event_lacks(unsigned seen)
{
	return !(seen & K_PCR) ? "\"pcr\"" : !(seen & K_TYPE) ? "\"type\"" :
	       !(seen & K_DESC) ? "\"description\"" : "\"sha384\"";
}

static const char *boot_vm_lacks(unsigned seen)
{
	return !(seen & K_VM_NAME) ? "\"name\"" : "\"sha384\"";
}

static int measurements(struct jp *j, struct reference *r)
{
	const struct object_list l = {
		event_member, r->events, sizeof(r->events[0]), &r->count,
		K_EVENT_ALL, "measurement", "measurements", event_lacks,
	};

	return object_list(j, &l);
}

static int boot_vms(struct jp *j, struct reference *r)
{
	const struct object_list l = {
		boot_vm_member, r->boot_vms, sizeof(r->boot_vms[0]),
		&r->boot_vm_count, K_VM_ALL, "boot VM", "boot VMs", boot_vm_lacks,
	};

	return object_list(j, &l);
}

static int top_member(struct jp *j, const char *key, void *ctx, unsigned *seen)
{
	struct reference *r = ctx;
	char buf[40];
	size_t n;

	if (strcmp(key, "format") == 0) {
		if (once(j, seen, K_FORMAT, key) || string(j, buf, sizeof(buf), NULL))
			return -1;
		if (strcmp(buf, REFERENCE_FORMAT) != 0)
			return jfail(j, "format is not \"%s\"", REFERENCE_FORMAT);
		return 0;
	}
	if (strcmp(key, "platform_id") == 0) {
		if (once(j, seen, K_PLATFORM, key) ||
		    string(j, r->platform_id, sizeof(r->platform_id), &n))
			return -1;
		if (n == 0 || !printable(r->platform_id, n, 0x21))
			return jfail(j, "platform_id must be 1..%u printable ASCII characters without spaces",
				     REPORT_PLATFORM_MAX);
		return 0;
	}
	if (strcmp(key, "measurements") == 0) {
		if (once(j, seen, K_MEAS, key))
			return -1;
		return measurements(j, r);
	}
	if (strcmp(key, "boot_vms") == 0) {
		if (once(j, seen, K_BOOT_VMS, key))
			return -1;
		return boot_vms(j, r);
	}
	if (strcmp(key, "launch") == 0) {
		if (once(j, seen, K_LAUNCH, key))
			return -1;
		return launch(j, r);
	}
	return skip_value(j, 1);
}

int reference_parse(const char *json, size_t len, struct reference *out,
		    char *err, size_t err_len)
{
	static struct reference tmp; /* ~4 KiB; the tools are single-threaded */
	struct jp j = { json, len, 0, err, err_len };
	unsigned seen = 0;

	if (len > REFERENCE_MAX_SIZE)
		return jfail(&j, "reference file larger than %u bytes",
			     REFERENCE_MAX_SIZE);
	memset(&tmp, 0, sizeof(tmp));
	if (object(&j, top_member, &tmp, &seen))
		return -1;
	if (peek(&j) != -1)
		return jfail(&j, "unexpected bytes after the JSON object");
	if ((seen & K_TOP_ALL) != K_TOP_ALL)
		return jfail(&j, "the reference lacks %s",
			     !(seen & K_FORMAT) ? "\"format\"" :
			     !(seen & K_PLATFORM) ? "\"platform_id\"" :
			     "\"measurements\"");
	*out = tmp;
	if (err && err_len)
		err[0] = '\0';
	return 0;
}

/* ---- Comparison ------------------------------------------------------------ */

/* The first 8 bytes of a digest as hex and "..". */
static const char *short_hex(const uint8_t *d, char out[20])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 8; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	memcpy(out + 16, "..", 3);
	return out;
}

/* The accepted values for a message: "ab12cd34.." or "one of ab12..,
 * cd34.." (at most three shown, then how many more). */
static const char *values_text(const struct reference_values *v, char out[96])
{
	char h[20];
	size_t n = 0;

	if (v->count == 1)
		return strcpy(out, short_hex(v->sha384[0], h));
	n += (size_t)snprintf(out, 96, "one of");
	for (size_t i = 0; i < v->count && i < 3; i++)
		n += (size_t)snprintf(out + n, 96 - n, "%s %s", i ? "," : "",
				      short_hex(v->sha384[i], h));
	if (v->count > 3)
		snprintf(out + n, 96 - n, " and %zu more", v->count - 3);
	return out;
}

static const char *type_name(uint32_t type, char buf[16])
{
	const char *n = reference_event_type_name(type);

	if (n)
		return n;
	snprintf(buf, 16, "0x%08x", type);
	return buf;
}

const char *reference_boot_vm_name(const struct tcg_event *e)
{
	size_t pre = sizeof(MEASURE_BOOT_VM_DESC_PREFIX) - 1;
	const char *name = e->desc + pre;

	if (e->pcr != TCG_PCR_BOOT_VM || e->event_type != TCG_EV_IPL ||
	    strncmp(e->desc, MEASURE_BOOT_VM_DESC_PREFIX, pre) != 0 ||
	    !vm_name_ok(name, strlen(name)))
		return NULL;
	return name;
}

/* A boot VM event at log index i: allowed by name and digest, and the
 * first of its name. */
static int check_boot_vm(const struct reference *ref,
			 const struct tcg_log_parsed *log, size_t i,
			 const char *name, char *err, size_t err_len)
{
	const struct tcg_event *e = &log->events[i];
	const struct reference_boot_vm *named = NULL;
	char a[20], b[96];

	for (size_t k = 0; k < i; k++) {
		const char *other = reference_boot_vm_name(&log->events[k]);

		if (other && strcmp(other, name) == 0)
			return errmsg(err, err_len,
				     "boot VM '%s' is logged twice (measurements %zu and %zu)",
				     name, k + 1, i + 1);
	}
	for (size_t k = 0; k < ref->boot_vm_count; k++) {
		const struct reference_boot_vm *v = &ref->boot_vms[k];

		if (strcmp(v->name, name) != 0)
			continue;
		if (reference_values_match(&v->values, e->digest))
			return 0;
		named = v;
	}
	if (named)
		return errmsg(err, err_len,
			     "boot VM '%s': reported sha384 %s but the reference allows it only as %s",
			     name, short_hex(e->digest, a), values_text(&named->values, b));
	return errmsg(err, err_len,
		     "boot VM '%s' (sha384 %s) runs beside the TPGVM, and the reference allows no boot VM '%s'",
		     name, short_hex(e->digest, a), name);
}

/* One of the platform's own measurements against the reference's. */
static int check_event(const struct tcg_event *e, const struct reference_event *r,
		       size_t index, char *err, size_t err_len)
{
	char a[20], b[96];

	if (strcmp(e->desc, r->desc) != 0)
		return errmsg(err, err_len,
			     "measurement %zu: the platform logged \"%s\" where the reference has \"%s\"",
			     index + 1, e->desc, r->desc);
	if (e->pcr != r->pcr)
		return errmsg(err, err_len,
			     "%s: reported in PCR %u but reference says PCR %u",
			     r->desc, e->pcr, r->pcr);
	if (e->event_type != r->event_type)
		return errmsg(err, err_len,
			     "%s: reported event type %s but reference says %s",
			     r->desc, type_name(e->event_type, a),
			     type_name(r->event_type, b));
	if (!reference_values_match(&r->values, e->digest))
		return errmsg(err, err_len,
			     "%s: reported sha384 %s but reference says %s",
			     r->desc, short_hex(e->digest, a),
			     values_text(&r->values, b));
	return 0;
}

int reference_compare(const struct reference *ref, const char *platform_id,
		      size_t platform_id_len, const struct tcg_log_parsed *log,
		      char *err, size_t err_len)
{
	size_t next = 0, own = 0;

	if (platform_id_len != strlen(ref->platform_id) ||
	    memcmp(platform_id, ref->platform_id, platform_id_len) != 0)
		return errmsg(err, err_len,
			     "platform id: reported \"%.*s\" but reference says \"%s\"",
			     (int)platform_id_len, platform_id, ref->platform_id);
	for (size_t i = 0; i < log->count; i++)
		own += reference_boot_vm_name(&log->events[i]) == NULL;
	/* Each event is a boot VM or the next of the platform's own: which
	 * one it is does not depend on where it sits. */
	for (size_t i = 0; i < log->count; i++) {
		const struct tcg_event *e = &log->events[i];
		const char *vm = reference_boot_vm_name(e);

		if (vm) {
			if (check_boot_vm(ref, log, i, vm, err, err_len))
				return -1;
			continue;
		}
		if (next == ref->count)
			return errmsg(err, err_len,
				     "the platform logged %zu measurements, the reference has %zu: \"%s\" (measurement %zu) is not in the reference",
				     own, ref->count, e->desc, i + 1);
		if (check_event(e, &ref->events[next], i, err, err_len))
			return -1;
		next++;
	}
	if (next < ref->count)
		return errmsg(err, err_len,
			     "the platform logged %zu measurements, the reference has %zu: \"%s\" (measurement %zu) is missing",
			     own, ref->count, ref->events[next].desc, next + 1);
	if (err && err_len)
		err[0] = '\0';
	return 0;
}

/*
 * fake-tpgvm: a stand-in TPGVM for host-only tests of the tenant CLI
 * (tests/integration/test_attest_host.py). It speaks what the real TPGVM
 * speaks to a tenant — TLS 1.2 with the Custos profile (crypto/tls.c), a
 * fresh self-signed P-384 certificate (CN custos-tpgvm), a required tenant
 * certificate chained to the tenant CA, then the tenant protocol — and
 * answers ATTEST_REQ with a report it builds and signs itself with the
 * development TCB signing key (tcb-keys.bin, tcb-certs.bin) over a log made
 * from reference values. It can misbehave on purpose (--mode).
 *
 * It is also the attacker of docs/report.md, "Claims and evidence": a host
 * process, no hypervisor at all, holding only what the boot media carries
 * (the TCB key and certificate modules), that signs reports claiming
 * whatever it likes. Mode claims-production claims TPM-sealed keys, a DRTM
 * launch and no debug option; the tenant CLI must still call it DEV and
 * send it nothing without --allow-dev. Mode production-identity goes
 * further and signs with a production-role certificate (tcb-sign, issued
 * here with the development CA's root key, as if such a key had leaked):
 * still DEV, for no TPM quote backs the claims.
 *
 *   fake-tpgvm --pki DIR --reference FILE [--mode MODE] [--count N]
 *              [--record FILE] [--dump FILE] [--vm-error CODE]
 *              [--stats FILE] [--drop-after N]
 *
 * Listens on 127.0.0.1, an ephemeral port, printed as "port N" on stdout;
 * serves N connections (default 1) one after the other, then exits.
 *
 * Modes: ok (dev platform), claims-production (claims TPM keys, DRTM
 * launch), production-identity (the same, signed with a tcb-sign
 * certificate), debug (claims-production but consoles mirrored), boot-vm
 * (a boot-module VM "intruder" logged after the TPGVM, as the hypervisor
 * logs one: cmdline "vm.intruder mem=2M", image "an administrator's VM"),
 * boot-vm-early (the same event between the CA root and the TPGVM), wrong-nonce, other-tls-key, bad-digest (the TPGVM
 * image's), other-platform, missing-event, extra-event, wrong-signer (the
 * TCB key-agreement key and certificate), bad-report (truncated), proto-error
 * (PROTO_ERROR busy), bad-message (a malformed protocol header), garbage
 * (bytes that are not TLS), tamper (a flipped bit in the answer's TLS
 * record), close (close after the request), stall (accept, then nothing),
 * stall-answer (handshake and request, then nothing), reject-cert (tenant
 * CA chain replaced: unknown_ca).
 *
 * After the report it goes on serving the VM messages (docs/protocol.md)
 * with a minimal in-memory VM service, for tests/integration/
 * test_vm_cli_host.py: create / upload (chunks in order, each answered with
 * VM_INFO; loaded and measured as docs/lifecycle.md says once both parts
 * are complete) / start / stop (sealed, version + 1) / destroy / status /
 * list / console (the guest "wrote" control characters on start). The VMs
 * live as long as the process, across its connections. --record FILE
 * appends one line per message received (type, name, sizes, the salt; never
 * the secrets, only their count); --dump FILE appends the raw body of every
 * message received (so a test can assert that a secret never arrived);
 * --vm-error CODE answers every VM request
 * with PROTO_ERROR CODE; mode vm-bad-measurement reports a measurement with
 * one bit flipped, vm-bad-answer answers every VM request with console
 * data, vm-other-name with the information of another VM.
 *
 * For sessions of several commands (custos vm shell): --stats FILE keeps
 * one line in FILE, rewritten after every event, "connections=N
 * handshakes=N attestations=N requests=N" (for the whole process), so a
 * test can check that N commands took one handshake and one attestation;
 * --drop-after N hangs up (no close_notify: a dropped connection) instead
 * of answering a connection's VM request number N + 1.
 * --wait-notes N sends N PROTO_WAIT notes before every VM answer, as the
 * TPGVM does while a long start or stop runs.
 *
 * For interrupted uploads: --upload-delay-ms N waits N ms before each
 * VM_UPLOAD answer (so a test can interrupt the CLI half-way);
 * --upload-refuse-at N refuses the process's chunk number N (from 0) as
 * the TPGVM refuses an image the TCB does not load: the VM is gone.
 * --halts 1: a started VM halts at once and is sealed, as the TPGVM
 * seals a VM that stopped itself: EXITED with its state sealed (stop
 * reason "halted"). Starts follow docs/protocol.md's table: EXITED boots
 * afresh unless mode RESUME, SEALED resumes unless mode AFRESH; the
 * answer's flags say which.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <custos/guest_abi.h>
#include <custos/proto.h>
#include <custos/report.h>
#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "crypto/tls.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ssl.h"
#include "tcb/byteorder.h"
#include "tcb/measure.h"
#include "tcb/tcb_keys.h"
#include "tcb/tcg_log.h"
#include "tools/reference.h"

static const char *mode = "ok";
static bool tamper_armed;
static FILE *record, *dump;
static uint32_t vm_error;
static const char *stats_path;
static long drop_after = -1;   /* --drop-after: VM requests answered, then none */
static int wait_notes;         /* --wait-notes: PROTO_WAIT before each VM answer */
static long upload_delay_ms;   /* --upload-delay-ms: before each VM_UPLOAD answer */
static long upload_refuse_at = -1; /* --upload-refuse-at: that chunk refused, VM gone */
static long uploads_seen;
static bool halts;             /* --halts: a started VM halts at once */

/* What this process served, for --stats. */
static struct {
	unsigned connections, handshakes, attestations, requests;
} stats;

static void stats_write(void)
{
	FILE *f;

	if (!stats_path)
		return;
	f = fopen(stats_path, "w");
	if (!f)
		return;
	fprintf(f, "connections=%u handshakes=%u attestations=%u requests=%u\n",
		stats.connections, stats.handshakes, stats.attestations, stats.requests);
	fclose(f);
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "fake-tpgvm: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static bool is(const char *m)
{
	return strcmp(mode, m) == 0;
}

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *buf = malloc(1 << 20);

	if (dir)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	f = fopen(path, "rb");
	if (!f || !buf)
		die("cannot read %s", path);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Send callback that flips one bit in the first record after arming. */
static int send_maybe_tamper(void *ctx, const unsigned char *buf, size_t len)
{
	if (tamper_armed && len > 20) {
		unsigned char *copy = malloc(len);
		int ret;

		memcpy(copy, buf, len);
		copy[len - 5] ^= 0x10; /* inside the GCM ciphertext / tag */
		tamper_armed = false;
		ret = mbedtls_net_send(ctx, copy, len);
		free(copy);
		return ret;
	}
	return mbedtls_net_send(ctx, buf, len);
}

struct identity {
	struct tcb_keys keys;
	struct tcb_certs certs;
	struct pki_cert prod_cert; /* production-identity: tcb-sign */
	uint8_t prod_priv[CRYPTO_P384_PRIV_LEN];
	struct reference ref;
	mbedtls_pk_context tls_key;
	mbedtls_x509_crt tls_crt, tenant_ca;
	uint8_t tls_pub[CRYPTO_P384_PUB_LEN];
};

/* A tcb-sign certificate for a fresh key, from the CA root's key in the
 * PKI directory: the production identity custos-ca never issues. */
static void issue_production_identity(const char *pki, struct identity *id)
{
	uint8_t root_priv[CRYPTO_P384_PRIV_LEN], pub[CRYPTO_P384_PUB_LEN];
	char path[512], err[PKI_ERR_LEN];
	uint8_t *root;
	size_t root_len;

	snprintf(path, sizeof(path), "%s/root.key", pki);
	if (pki_key_read(path, root_priv, NULL, err, sizeof(err)) != CRYPTO_OK)
		die("root key: %s", err);
	snprintf(path, sizeof(path), "%s/root.der", pki);
	if (pki_cert_read(path, &root, &root_len, err, sizeof(err)) != CRYPTO_OK)
		die("root: %s", err);
	if (crypto_p384_keygen(id->prod_priv, pub) != CRYPTO_OK ||
	    pki_issue_leaf(root_priv, root, root_len, pub, "Custos production platform",
			   CRYPTO_ROLE_TCB_SIGN, 30, &id->prod_cert, err,
			   sizeof(err)) != CRYPTO_OK)
		die("production identity: %s", err);
	crypto_wipe(root_priv, sizeof(root_priv));
	free(root);
}

/* The boot-module VM "intruder" (docs/eventlog.md), its event at index at. */
static void log_boot_vm(struct measure_log *log, size_t at)
{
	static const char image[] = "an administrator's VM";
	uint8_t d[MEASURE_DIGEST_LEN];
	char desc[MEASURE_DESC_MAX];
	struct measure_event e;

	measure_boot_vm_digest(crypto_sha384, "vm.intruder mem=2M", image,
			       sizeof(image) - 1, d);
	measure_boot_vm_desc("intruder", desc);
	if (measure_log_append(log, MEASURE_BOOT_VM, d, desc) != 0)
		die("%s", "log full");
	e = log->events[log->count - 1];
	memmove(&log->events[at + 1], &log->events[at],
		(log->count - 1 - at) * sizeof(log->events[0]));
	log->events[at] = e;
}

static size_t make_report(struct identity *id, const uint8_t *nonce,
			  size_t nonce_len, uint8_t *out, size_t cap)
{
	struct measure_log log;
	uint8_t n[REPORT_NONCE_MAX], hash[RPT_TLS_HASH_LEN];
	uint8_t other_priv[CRYPTO_P384_PRIV_LEN], other_pub[CRYPTO_P384_PUB_LEN];
	static const uint32_t types[] = { MEASURE_HV_IMAGE, MEASURE_HV_CMDLINE,
		MEASURE_CA_ROOT, MEASURE_TPGVM_IMAGE, MEASURE_TPGVM_POLICY };
	struct report_contents c;
	char err[256];
	size_t len;

	measure_log_init(&log);
	for (size_t i = 0; i < id->ref.count && i < 5; i++) {
		uint8_t d[MEASURE_DIGEST_LEN];

		if (is("missing-event") && i == 4)
			break;
		memcpy(d, id->ref.events[i].values.sha384[0], sizeof(d));
		if (is("bad-digest") && i == 3)
			d[0] ^= 0xff;
		measure_log_append(&log, types[i], d, id->ref.events[i].desc);
	}
	if (is("extra-event"))
		measure_log_append(&log, MEASURE_TPGVM_IMAGE,
				   id->ref.events[0].values.sha384[0], "surprise guest");
	if (is("boot-vm") || is("boot-vm-early"))
		log_boot_vm(&log, is("boot-vm-early") ? 3 : log.count);
	memcpy(n, nonce, nonce_len);
	if (is("wrong-nonce"))
		n[0] ^= 1;
	if (is("other-tls-key")) {
		crypto_p384_keygen(other_priv, other_pub);
		report_tls_key_hash(other_pub, hash);
	} else {
		report_tls_key_hash(id->tls_pub, hash);
	}
	memset(&c, 0, sizeof(c));
	c.nonce = n;
	c.nonce_len = nonce_len;
	c.tls_key_hash = hash;
	c.log = &log;
	c.key_protection = REPORT_KEYS_DEV;
	c.launch_mode = REPORT_LAUNCH_DEV;
	if (is("claims-production") || is("production-identity") || is("debug")) {
		c.key_protection = REPORT_KEYS_TPM;
		c.launch_mode = REPORT_LAUNCH_DRTM;
	}
	c.debug = is("debug") ? REPORT_DEBUG_CONSOLE_MIRROR : 0;
	c.platform_id = is("other-platform") ? "other-platform" : id->ref.platform_id;
	if (is("wrong-signer")) {
		c.sign_cert = id->certs.kex_cert;
		c.sign_cert_len = id->certs.kex_cert_len;
	} else if (is("production-identity")) {
		c.sign_cert = id->prod_cert.der;
		c.sign_cert_len = id->prod_cert.der_len;
	} else {
		c.sign_cert = id->certs.sign_cert;
		c.sign_cert_len = id->certs.sign_cert_len;
	}
	if (report_build(&c, is("wrong-signer") ? id->keys.kex_priv :
			 is("production-identity") ? id->prod_priv : id->keys.sign_priv,
			 out, cap, &len, err, sizeof(err)) != REPORT_OK)
		die("report_build: %s", err);
	if (is("bad-report"))
		len -= 10;
	return len;
}

static int write_all(mbedtls_ssl_context *ssl, const uint8_t *p, size_t n)
{
	while (n) {
		int ret = mbedtls_ssl_write(ssl, p, n);

		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (ret <= 0)
			return -1;
		p += ret;
		n -= (size_t)ret;
	}
	return 0;
}

/* ---- The in-memory VM service ------------------------------------------- */

#define FAKE_VMS 16
#define GUEST_CONSOLE "guest: booting\x1b[2J\x07 ok\tready\r\n\x9b" "31mred\n"

struct fake_vm {
	bool used;
	struct proto_vm_info info;
	uint8_t *image, *init;
	uint8_t *initrd;              /* a Linux VM's (boot_protocol 1) */
	uint32_t boot_protocol;
	char cmdline[PROTO_CMDLINE_MAX];
	uint32_t cmdline_len;
	uint8_t salt[PROTO_SALT_LEN];
	uint8_t secrets[PROTO_SECRETS_MAX];
	uint32_t secrets_len;
	char console[256];
	size_t console_len;
};

static struct fake_vm vms[FAKE_VMS];

static struct fake_vm *find_vm(const char *name)
{
	for (int i = 0; i < FAKE_VMS; i++)
		if (vms[i].used && strncmp(vms[i].info.name, name, PROTO_VM_NAME_MAX) == 0)
			return &vms[i];
	return NULL;
}

static void put64(struct crypto_sha384_ctx *h, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	crypto_sha384_update(h, b, 8);
}

/* docs/lifecycle.md, a Linux VM's launch measurement, written here from
 * the document (not with tcb/linux_measure.c: a cross-check of the CLI). */
static void measure_linux(struct fake_vm *v)
{
	struct crypto_sha384_ctx h;
	uint8_t d[CRYPTO_SHA256_LEN];

	crypto_sha384_init(&h);
	crypto_sha384_update(&h, "CUSTOS-VM-LAUNCH-LINUX64-2", 26);
	crypto_sha384_update(&h, v->info.name, PROTO_VM_NAME_MAX);
	put64(&h, v->info.mem_size);
	crypto_sha256(v->image, v->info.image_len, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put64(&h, v->info.image_len);
	crypto_sha256(v->initrd ? v->initrd : (const uint8_t *)"", v->info.initrd_len, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put64(&h, v->info.initrd_len);
	crypto_sha256(v->cmdline, v->cmdline_len, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put64(&h, v->cmdline_len);
	crypto_sha384_final(&h, v->info.measurement);
}

/* docs/lifecycle.md, "The launch measurement", as the TCB computes it. */
static void measure_vm(struct fake_vm *v)
{
	if (v->boot_protocol == PROTO_BOOT_LINUX64) {
		measure_linux(v);
		return;
	}
	struct crypto_sha384_ctx h;
	struct crypto_sha256_ctx s;
	uint8_t d[CRYPTO_SHA256_LEN];

	crypto_sha384_init(&h);
	crypto_sha384_update(&h, "CUSTOS-VM-LAUNCH-2", 18);
	crypto_sha384_update(&h, v->info.name, PROTO_VM_NAME_MAX);
	put64(&h, v->info.mem_size);
	crypto_sha256(v->image, v->info.image_len, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put64(&h, v->info.image_len);
	crypto_sha256(v->init ? v->init : (const uint8_t *)"", v->info.init_len, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put64(&h, v->info.init_len);
	crypto_sha256_init(&s);
	crypto_sha256_update(&s, v->salt, PROTO_SALT_LEN);
	crypto_sha256_update(&s, v->secrets, v->secrets_len);
	crypto_sha256_final(&s, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put64(&h, v->secrets_len);
	crypto_sha384_final(&h, v->info.measurement);
	if (is("vm-bad-measurement"))
		v->info.measurement[7] ^= 0x01;
}

static int answer(mbedtls_ssl_context *ssl, uint16_t type, const void *body,
		  size_t len)
{
	static uint8_t out[PROTO_HDR_LEN + PROTO_MAX_BODY];
	size_t n;

	for (int i = 0; i < wait_notes; i++) {
		n = proto_encode(PROTO_WAIT, NULL, 0, out, sizeof(out));
		if (n == 0 || write_all(ssl, out, n) != 0)
			return -1;
	}
	n = proto_encode(type, body, len, out, sizeof(out));
	if (n == 0)
		die("%s", "cannot encode an answer");
	return write_all(ssl, out, n);
}

static int answer_error(mbedtls_ssl_context *ssl, uint32_t code, const char *text)
{
	uint8_t out[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX];
	size_t n = proto_encode_error(code, text, out, sizeof(out));

	return write_all(ssl, out, n);
}

static int vm_request(mbedtls_ssl_context *ssl, const struct proto_msg *m)
{
	static const char *names[] = { "VM_CREATE", "VM_UPLOAD", "VM_START",
		"VM_STOP", "VM_DESTROY", "VM_STATUS", "VM_LIST", "VM_CONSOLE" };
	const char *tname = m->type >= PROTO_VM_CREATE && m->type <= PROTO_VM_CONSOLE ?
		names[m->type - PROTO_VM_CREATE] : "OTHER";
	char name[PROTO_VM_NAME_MAX + 1] = "";
	struct fake_vm *v;

	if (m->type != PROTO_VM_LIST && m->len >= PROTO_VM_NAME_MAX)
		memcpy(name, m->body, PROTO_VM_NAME_MAX);
	if (m->type == PROTO_VM_CREATE) {
		struct proto_vm_create c;
		char salt[2 * PROTO_SALT_LEN + 1];
		size_t nsec = 0;

		memcpy(&c, m->body, sizeof(c));
		for (uint32_t i = 0; i < c.secrets_len; i++)
			nsec += m->body[sizeof(c) + i] == 0;
		for (size_t i = 0; i < PROTO_SALT_LEN; i++)
			snprintf(salt + 2 * i, 3, "%02x", c.salt[i]);
		if (record)
			fprintf(record, "VM_CREATE name=%s mem=%llu image=%llu init=%llu secrets_len=%u secrets=%zu salt=%s\n",
				name, (unsigned long long)c.mem_size,
				(unsigned long long)c.image_len,
				(unsigned long long)c.init_len, c.secrets_len, nsec, salt);
		if (record && c.boot_protocol)
			fprintf(record, "VM_CREATE_LINUX name=%s boot=%u initrd=%llu cmdline=%.*s\n",
				name, c.boot_protocol, (unsigned long long)c.initrd_len,
				c.cmdline_len ? (int)c.cmdline_len - 1 : 0,
				(const char *)m->body + sizeof(c) + c.secrets_len);
	} else if (m->type == PROTO_VM_UPLOAD) {
		struct proto_vm_upload u;

		memcpy(&u, m->body, sizeof(u));
		if (record)
			fprintf(record, "VM_UPLOAD name=%s part=%u offset=%llu len=%zu\n",
				name, u.part, (unsigned long long)u.offset,
				(size_t)m->len - sizeof(u));
	} else if (m->type == PROTO_VM_START) {
		if (record)
			fprintf(record, "VM_START name=%s mode=%u\n", name,
				(unsigned)load_le32(m->body + offsetof(struct proto_vm_start, mode)));
	} else {
		if (record)
			fprintf(record, "%s name=%s\n", tname, name);
	}
	if (record)
		fflush(record);
	if (vm_error)
		return answer_error(ssl, vm_error, "the fake says no");
	if (is("vm-bad-answer")) /* console bytes to whatever was asked */
		return answer(ssl, PROTO_VM_CONSOLE_DATA, "x", 1);
	if (is("vm-other-name")) {
		struct proto_vm_info other;

		memset(&other, 0, sizeof(other));
		strcpy(other.name, "someone-else");
		other.state = HC_VM_RUNNING;
		other.mem_size = 2u << 20;
		return answer(ssl, PROTO_VM_INFO, &other, sizeof(other));
	}

	switch (m->type) {
	case PROTO_VM_CREATE: {
		struct proto_vm_create c;

		memcpy(&c, m->body, sizeof(c));
		if (find_vm(c.name))
			return answer_error(ssl, PROTO_ERR_EXISTS, "exists");
		v = NULL;
		for (int i = 0; i < FAKE_VMS && !v; i++)
			if (!vms[i].used)
				v = &vms[i];
		if (!v)
			return answer_error(ssl, PROTO_ERR_NO_MEMORY, "full");
		memset(v, 0, sizeof(*v));
		v->used = true;
		memcpy(v->info.name, c.name, PROTO_VM_NAME_MAX);
		v->info.state = HC_VM_CREATED;
		v->info.mem_size = c.mem_size;
		v->info.image_len = c.image_len;
		v->info.init_len = c.init_len;
		v->image = calloc(1, c.image_len);
		v->init = c.init_len ? calloc(1, c.init_len) : NULL;
		memcpy(v->salt, c.salt, sizeof(v->salt));
		memcpy(v->secrets, m->body + sizeof(c), c.secrets_len);
		v->secrets_len = c.secrets_len;
		v->boot_protocol = c.boot_protocol;
		v->info.initrd_len = c.initrd_len;
		v->initrd = c.initrd_len ? calloc(1, c.initrd_len) : NULL;
		v->cmdline_len = c.cmdline_len;
		memcpy(v->cmdline, m->body + sizeof(c) + c.secrets_len, c.cmdline_len);
		return answer(ssl, PROTO_VM_INFO, &v->info, sizeof(v->info));
	}
	case PROTO_VM_UPLOAD: {
		struct proto_vm_upload u;
		size_t n = m->len - sizeof(u);
		uint64_t *got, total;
		uint8_t *dst;

		memcpy(&u, m->body, sizeof(u));
		if (upload_delay_ms)
			usleep((useconds_t)upload_delay_ms * 1000);
		v = find_vm(u.name);
		if (!v)
			return answer_error(ssl, PROTO_ERR_NOT_FOUND, "no such VM");
		if (uploads_seen++ == upload_refuse_at) {
			/* as the TPGVM does when the TCB refuses the image */
			free(v->image);
			free(v->init);
			free(v->initrd);
			memset(v, 0, sizeof(*v));
			return answer_error(ssl, PROTO_ERR_BAD_REQUEST, "the TCB refused "
					    "the image; the VM was destroyed");
		}
		if (v->info.state != HC_VM_CREATED)
			return answer_error(ssl, PROTO_ERR_STATE, "not uploading");
		got = u.part == PROTO_PART_IMAGE ? &v->info.image_received :
		      u.part == PROTO_PART_INITRD ? &v->info.initrd_received :
						    &v->info.init_received;
		total = u.part == PROTO_PART_IMAGE ? v->info.image_len :
			u.part == PROTO_PART_INITRD ? v->info.initrd_len : v->info.init_len;
		dst = u.part == PROTO_PART_IMAGE ? v->image :
		      u.part == PROTO_PART_INITRD ? v->initrd : v->init;
		if (u.offset != *got || n > total - *got)
			return answer_error(ssl, PROTO_ERR_BAD_REQUEST, "chunk out of order");
		memcpy(dst + u.offset, m->body + sizeof(u), n);
		*got += n;
		if (v->info.image_received == v->info.image_len &&
		    v->info.init_received == v->info.init_len &&
		    v->info.initrd_received == v->info.initrd_len) {
			measure_vm(v);
			v->info.state = HC_VM_LOADED;
		}
		return answer(ssl, PROTO_VM_INFO, &v->info, sizeof(v->info));
	}
	case PROTO_VM_LIST: {
		static struct proto_vm_info all[FAKE_VMS];
		size_t k = 0;

		for (int i = 0; i < FAKE_VMS; i++)
			if (vms[i].used)
				all[k++] = vms[i].info;
		return answer(ssl, PROTO_VM_INFO, all, k * sizeof(all[0]));
	}
	default:
		break;
	}
	v = find_vm(name);
	if (!v)
		return answer_error(ssl, PROTO_ERR_NOT_FOUND, "no such VM");
	switch (m->type) {
	case PROTO_VM_START: {
		uint32_t start_mode = load_le32(m->body + offsetof(struct proto_vm_start, mode));
		uint32_t how = 0;

		if (v->info.state == HC_VM_LOADED && start_mode == PROTO_START_RESUME)
			return answer_error(ssl, PROTO_ERR_STATE, "the VM has never run: nothing to resume");
		if (v->info.state == HC_VM_EXITED)
			how = start_mode == PROTO_START_RESUME ? PROTO_VM_INFO_RESUMED
							 : PROTO_VM_INFO_AFRESH;
		else if (v->info.state == HC_VM_SEALED)
			how = start_mode == PROTO_START_AFRESH ? PROTO_VM_INFO_AFRESH
							 : PROTO_VM_INFO_RESUMED;
		else if (v->info.state != HC_VM_LOADED)
			return answer_error(ssl, PROTO_ERR_STATE, "not startable");
		v->info.state = HC_VM_RUNNING;
		v->info.flags = 0;
		memset(v->info.stop_reason, 0, sizeof(v->info.stop_reason));
		v->console_len = sizeof(GUEST_CONSOLE) - 1;
		memcpy(v->console, GUEST_CONSOLE, v->console_len);
		if (halts) { /* halted at once, and sealed by the TPGVM */
			v->info.state = HC_VM_EXITED;
			v->info.flags = PROTO_VM_INFO_SEALED;
			v->info.version++;
			snprintf(v->info.stop_reason, sizeof(v->info.stop_reason), "halted");
		}
		struct proto_vm_info answer_info = v->info;

		answer_info.flags |= how;
		return answer(ssl, PROTO_VM_INFO, &answer_info, sizeof(answer_info));
	}
	case PROTO_VM_STOP:
		if (v->info.state == HC_VM_EXITED && (v->info.flags & PROTO_VM_INFO_SEALED))
			break; /* stopped itself, and sealed: stopped already */
		if (v->info.state != HC_VM_RUNNING && v->info.state != HC_VM_EXITED)
			return answer_error(ssl, PROTO_ERR_STATE, "not running");
		v->info.flags = PROTO_VM_INFO_SEALED;
		v->info.state = HC_VM_SEALED;
		v->info.version++;
		snprintf(v->info.stop_reason, sizeof(v->info.stop_reason),
			 "stopped by its owner");
		break;
	case PROTO_VM_DESTROY: {
		struct proto_vm_info last = v->info;

		last.state = 0;
		free(v->image);
		free(v->init);
		free(v->initrd);
		memset(v, 0, sizeof(*v));
		return answer(ssl, PROTO_VM_INFO, &last, sizeof(last));
	}
	case PROTO_VM_CONSOLE: {
		int rc = answer(ssl, PROTO_VM_CONSOLE_DATA, v->console, v->console_len);

		v->console_len = 0;
		return rc;
	}
	default:
		break;
	}
	return answer(ssl, PROTO_VM_INFO, &v->info, sizeof(v->info));
}

/* The next whole message from the tenant: 0, or -1 at its end or on a
 * malformed one. */
static int next_msg(mbedtls_ssl_context *ssl, struct proto_reader *reader,
		    uint8_t *chunk, size_t cap, size_t *pos, size_t *have,
		    struct proto_msg *msg)
{
	char err[160];

	for (;;) {
		if (*pos < *have) {
			size_t used = 0;
			enum proto_read_status s = proto_reader_feed(
				reader, chunk + *pos, *have - *pos, &used, msg, err,
				sizeof(err));

			*pos += used;
			if (s == PROTO_READ_ERROR) {
				fprintf(stderr, "fake-tpgvm: bad request: %s\n", err);
				if (record) {
					fprintf(record, "BAD %s\n", err);
					fflush(record);
				}
				return -1;
			}
			if (s == PROTO_READ_MSG) {
				if (dump) {
					fwrite(msg->body, 1, msg->len, dump);
					fflush(dump);
				}
				return 0;
			}
			*pos = *have;
			continue;
		}
		{
			int ret = crypto_tls_read(ssl, chunk, cap);

			if (ret == MBEDTLS_ERR_SSL_WANT_READ)
				continue;
			if (ret <= 0)
				return -1;
			*pos = 0;
			*have = (size_t)ret;
		}
	}
}

static void serve(struct identity *id, mbedtls_ssl_config *conf, int fd)
{
	mbedtls_net_context net = { .fd = fd };
	mbedtls_ssl_context ssl;
	static uint8_t rbuf[PROTO_HDR_LEN + PROTO_MAX_BODY];
	static uint8_t report[REPORT_MAX_SIZE], out[PROTO_HDR_LEN + REPORT_MAX_SIZE];
	struct proto_reader reader;
	struct proto_msg msg;
	uint8_t chunk[16384];
	size_t pos = 0, have = 0;
	int ret;

	if (is("garbage")) {
		static const char junk[] = "HTTP/1.0 400 Bad Request\r\n\r\nthis is not TLS at all";

		if (write(fd, junk, sizeof(junk)) < 0)
			perror("write");
		usleep(200000);
		close(fd);
		return;
	}
	if (is("stall")) {
		sleep(60);
		close(fd);
		return;
	}
	mbedtls_ssl_init(&ssl);
	mbedtls_ssl_setup(&ssl, conf);
	mbedtls_ssl_set_bio(&ssl, &net, send_maybe_tamper, mbedtls_net_recv, NULL);
	while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {
		if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
			fprintf(stderr, "fake-tpgvm: handshake: %s (-0x%04x)\n",
				crypto_tls_strerror(ret), (unsigned)-ret);
			/* As the relay would: read what the tenant still
			 * sends, so closing is a FIN, not a reset that could
			 * destroy our alert in the tenant's socket. */
			shutdown(fd, SHUT_WR);
			{
				struct timeval tv = { 1, 0 };

				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
				while (read(fd, chunk, sizeof(chunk)) > 0)
					;
			}
			goto done;
		}
	}
	stats.handshakes++;
	stats_write();
	proto_reader_init(&reader, rbuf, sizeof(rbuf));
	if (next_msg(&ssl, &reader, chunk, sizeof(chunk), &pos, &have, &msg) != 0)
		goto done;
	if (msg.type == PROTO_ATTEST_REQ) {
		stats.attestations++;
		stats_write();
	}
	if (record) {
		fprintf(record, "%s\n", msg.type == PROTO_ATTEST_REQ ? "ATTEST_REQ" : "OTHER");
		fflush(record);
	}
	if (msg.type != PROTO_ATTEST_REQ) {
		fprintf(stderr, "fake-tpgvm: unexpected message type %u\n", msg.type);
		goto done;
	}
	if (is("close"))
		goto done;
	if (is("stall-answer")) {
		sleep(60);
		goto done;
	}
	if (is("proto-error")) {
		size_t n = proto_encode_error(PROTO_ERR_BUSY, "try again later", out,
					      sizeof(out));

		write_all(&ssl, out, n);
	} else if (is("bad-message")) {
		static const uint8_t bad[8] = { 0xff, 0xff, 0xff, 0x7f, 2, 0, 0, 0 };

		write_all(&ssl, bad, sizeof(bad));
	} else {
		size_t len = make_report(id, msg.body, msg.len, report, sizeof(report));
		size_t n = proto_encode(PROTO_ATTEST_RESP, report, len, out, sizeof(out));

		if (n == 0)
			die("%s", "cannot encode the answer");
		tamper_armed = is("tamper");
		write_all(&ssl, out, n);
	}
	/* The VM requests that follow (if the tenant accepted the report). */
	for (long n = 0;
	     next_msg(&ssl, &reader, chunk, sizeof(chunk), &pos, &have, &msg) == 0; n++) {
		if (n == drop_after) {
			/* A dropped connection: no answer, no close_notify. */
			mbedtls_ssl_free(&ssl);
			close(fd);
			return;
		}
		stats.requests++;
		stats_write();
		if (vm_request(&ssl, &msg) != 0)
			break;
	}
	mbedtls_ssl_close_notify(&ssl);
	usleep(300000); /* let the client read before the socket goes */
done:
	mbedtls_ssl_free(&ssl);
	close(fd);
}

int main(int argc, char **argv)
{
	static struct identity id;
	const char *pki = NULL, *refpath = NULL;
	mbedtls_ssl_config conf;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int count = 1, lfd, one = 1;
	uint8_t *buf;
	size_t len;
	char err[256];

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--pki") == 0)
			pki = argv[i + 1];
		else if (strcmp(argv[i], "--reference") == 0)
			refpath = argv[i + 1];
		else if (strcmp(argv[i], "--mode") == 0)
			mode = argv[i + 1];
		else if (strcmp(argv[i], "--count") == 0)
			count = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--record") == 0)
			record = fopen(argv[i + 1], "a");
		else if (strcmp(argv[i], "--dump") == 0)
			dump = fopen(argv[i + 1], "ab");
		else if (strcmp(argv[i], "--vm-error") == 0)
			vm_error = (uint32_t)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--stats") == 0)
			stats_path = argv[i + 1];
		else if (strcmp(argv[i], "--drop-after") == 0)
			drop_after = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--wait-notes") == 0)
			wait_notes = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--upload-delay-ms") == 0)
			upload_delay_ms = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--upload-refuse-at") == 0)
			upload_refuse_at = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--halts") == 0)
			halts = strcmp(argv[i + 1], "1") == 0;
		else
			die("unknown option %s", argv[i]);
	}
	if (!pki || !refpath)
		die("%s", "usage: fake-tpgvm --pki DIR --reference FILE [--mode M] [--count N]");
	if (crypto_init() != CRYPTO_OK)
		die("%s", "crypto_init failed");
	buf = slurp(pki, "tcb-keys.bin", &len);
	if (tcb_keys_parse(buf, len, &id.keys, err, sizeof(err)))
		die("tcb-keys.bin: %s", err);
	buf = slurp(pki, "tcb-certs.bin", &len);
	if (tcb_certs_parse(buf, len, &id.certs, err, sizeof(err)))
		die("tcb-certs.bin: %s", err);
	if (is("production-identity"))
		issue_production_identity(pki, &id);
	buf = slurp(NULL, refpath, &len);
	if (reference_parse((const char *)buf, len, &id.ref, err, sizeof(err)))
		die("reference: %s", err);
	mbedtls_pk_init(&id.tls_key);
	mbedtls_x509_crt_init(&id.tls_crt);
	mbedtls_x509_crt_init(&id.tenant_ca);
	if (crypto_tls_self_signed(&id.tls_key, &id.tls_crt, "custos-tpgvm") != CRYPTO_OK ||
	    crypto_tls_cert_pub(&id.tls_crt, id.tls_pub) != CRYPTO_OK)
		die("%s", "cannot make the TLS key");
	{
		uint8_t *der;
		size_t dl;
		char path[512];

		snprintf(path, sizeof(path), "%s/root.der", pki);
		if (pki_cert_read(path, &der, &dl, err, sizeof(err)) != CRYPTO_OK ||
		    mbedtls_x509_crt_parse_der(&id.tenant_ca, der, dl) != 0)
			die("tenant CA: %s", err);
	}
	mbedtls_ssl_config_init(&conf);
	if (crypto_tls_config(&conf, MBEDTLS_SSL_IS_SERVER) != CRYPTO_OK)
		die("%s", "crypto_tls_config failed");
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	/* reject-cert: only our own self-signed certificate is "the CA". */
	mbedtls_ssl_conf_ca_chain(&conf, is("reject-cert") ? &id.tls_crt : &id.tenant_ca,
				  NULL);
	crypto_tls_require_peer_role(&conf, CRYPTO_ROLE_TENANT);
	if (mbedtls_ssl_conf_own_cert(&conf, &id.tls_crt, &id.tls_key) != 0)
		die("%s", "own cert");

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 8) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl))
		die("listen: %s", strerror(errno));
	printf("port %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			die("accept: %s", strerror(errno));
		stats.connections++;
		stats_write();
		serve(&id, &conf, fd);
	}
	return 0;
}

#include "hv/tpgvm.h"
#include "hv/tpm.h"
#include "hv/tpm_tcb_key.h"
#include "hv/ca_root.h"
#include "hv/console.h"
#include "hv/guest.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/tenant.h"
#include "crypto/crypto.h"
#include "tcb/elf_image.h"
#include "tcb/lifecycle.h"
#include "tcb/policy.h"
#include "tcb/tcb_identity.h"
#include "tcb/tcb_keys.h"
#include <custos/envelope.h>
#include <custos/report.h>

#include <stdio.h>
#include <string.h>

#define TPGVM_NAME "tpgvm"
/* It stages tenant images and sealed blobs in its own memory: at least
 * this much, more when its image needs it (tpgvm_mem). */
#define TPGVM_MEM  (64ull << 20)
/* Above the image's highest address: stack, and room the image's code
 * takes without declaring it. */
#define TPGVM_MEM_ABOVE_IMAGE (16ull << 20)

/* This TCB's private keys: the signing key signs reports for as long as
 * the TCB runs; they never leave TCB memory. */
static struct tcb_keys tcb_keys;
static bool tcb_keys_loaded;

/* What HC_REPORT needs besides the request, kept for the TCB's lifetime:
 * own copies rather than pointers into the certificate module or the
 * TPGVM's policy (the TPGVM can rewrite its copy of the policy). */
static uint8_t sign_cert[TCB_CERT_MAX];
static char platform_id[POLICY_PLATFORM_ID_MAX + 1];
static struct report_source report_source;
static bool report_source_ready;

static uint64_t *released;

static void release_module(const struct mb2_module *m)
{
	*released += memory_release_module(m);
}

static void *module_bytes(const struct mb2_module *m)
{
	return phys_to_virt(m->start);
}

static bool measure(struct measure_log *log, enum measure_type type,
		    const void *data, size_t len, const char *desc)
{
	uint8_t d[CRYPTO_SHA384_LEN];

	crypto_sha384(data, len, d);
	console_log_measurement(measure_type_name(type), d);
	return measure_log_append(log, type, d, desc) == 0;
}

/* The key module is consumed (copied, then zeroed) whatever happens. */
static bool load_tcb_identity(const struct mb2_module *keys,
			      const struct mb2_module *certs,
			      struct tcb_certs *out)
{
	char err[224]; /* the identity refusal is a long line */
	bool ok = true;

	if (tcb_keys_parse(module_bytes(keys), keys->end - keys->start,
			   &tcb_keys, err, sizeof(err))) {
		console_printf("tpgvm: TCB key module refused: %s\n", err);
		ok = false;
	}
	release_module(keys);
	if (ok && tcb_certs_parse(module_bytes(certs), certs->end - certs->start,
				  out, err, sizeof(err))) {
		console_printf("tpgvm: TCB certificate module refused: %s\n", err);
		ok = false;
	}
	if (ok) {
		size_t root_len;
		const uint8_t *root = ca_root(&root_len);

		/* Plaintext keys: only with development-role certificates. */
		if (tcb_identity_check_plaintext(&tcb_keys, out, root, root_len,
						 err, sizeof(err))) {
			console_printf("tpgvm: TCB identity refused: %s\n", err);
			ok = false;
		}
	}
	if (!ok)
		crypto_wipe(&tcb_keys, sizeof(tcb_keys));
	tcb_keys_loaded = ok;
	return ok;
}

/* Reports signed by the TPM-resident key (hv/tpm_tcb_key.c). */
static const struct report_signer tpm_signer = { tpm_tcb_key_sign, NULL };

/* Only once the TPGVM exists: reports are for it alone. */
static void keep_report_source(const struct tcb_certs *tc,
			       const struct measure_log *log,
			       uint32_t report_debug, bool tpm_keys)
{
	memcpy(sign_cert, tc->sign_cert, tc->sign_cert_len);
	report_source = (struct report_source){
		.log = log,
		.platform_id = platform_id,
		.sign_cert = sign_cert,
		.sign_cert_len = tc->sign_cert_len,
		.sign_priv = tcb_keys.sign_priv,
		/* Keys from a plaintext boot module with a development
		 * identity (tcb_identity_check_plaintext), no measured launch:
		 * reports say dev, and the dev certificate says it to every
		 * verifier anyway. */
		.key_protection = REPORT_KEYS_DEV,
		.launch_mode = REPORT_LAUNCH_DEV,
		.debug = report_debug,
		/* Where there is a TPM, every report carries its quote. */
		.tpm_len = tpm_evidence_len(),
		.tpm_evidence = tpm_write_evidence,
	};
	if (!report_source.tpm_len)
		report_source.tpm_evidence = NULL;
	if (tpm_keys) {
		/* Keys the TPM lets only this approved, measured launch use. */
		report_source.sign_priv = NULL;
		report_source.signer = &tpm_signer;
		report_source.key_protection = REPORT_KEYS_TPM;
		report_source.launch_mode = REPORT_LAUNCH_SRTM;
	}
	report_source_ready = true;
}

const struct report_source *tpgvm_report_source(void)
{
	return report_source_ready ? &report_source : NULL;
}

/* The TPGVM's memory: TPGVM_MEM, or, for an image whose segments (a large
 * .bss: a test driver's blob store, guests/streamseal) reach higher, its
 * highest address plus TPGVM_MEM_ABOVE_IMAGE, 2 MiB-aligned, at most
 * GUEST_MEM_MAX. The image is the station's, signed and measured, so its
 * author chooses; an image the loader refuses gets TPGVM_MEM and the
 * load says why. */
static uint64_t tpgvm_mem(const struct envelope_payload *p)
{
	struct elf_image img;
	uint64_t need;

	if (elf_image_parse(p->image, p->image_len, GUEST_IMAGE_MIN_GPA,
			    GUEST_MEM_MAX - LC_STACK_RESERVE, &img, NULL, 0))
		return TPGVM_MEM;
	need = (img.highest_gpa + TPGVM_MEM_ABOVE_IMAGE + GUEST_MEM_ALIGN - 1) &
	       ~(GUEST_MEM_ALIGN - 1);
	if (need > GUEST_MEM_MAX)
		need = GUEST_MEM_MAX;
	return need > TPGVM_MEM ? need : TPGVM_MEM;
}

static struct vm *launch(const struct envelope_payload *p)
{
	struct vm_config cfg = { .mem_size = tpgvm_mem(p) };
	struct tpgvm_policy policy;
	char err[160];
	struct vm *vm;

	if (policy_parse(p->policy, p->policy_len, &policy, err, sizeof(err))) {
		console_printf("tpgvm: envelope refused: policy: %s\n", err);
		return NULL;
	}
	memcpy(cfg.name, TPGVM_NAME, sizeof(TPGVM_NAME));
	/* Its policy (platform id, tenant CA roots) is its init data. */
	vm = guest_create(tenant_ops(), &cfg, true, p->image, p->image_len, p->policy,
			  p->policy_len, err, sizeof(err));
	if (!vm) {
		console_printf("tpgvm: not created: %s\n", err);
		return NULL;
	}
	memcpy(platform_id, policy.platform_id, sizeof(platform_id));
	console_printf("tpgvm: launched as vm %u for platform \"%s\" "
		       "(%zu tenant CA root%s)\n", vm->id, policy.platform_id,
		       policy.tenant_ca_count, policy.tenant_ca_count == 1 ? "" : "s");
	if (cfg.mem_size != TPGVM_MEM)
		console_printf("tpgvm: %llu MiB of memory, as its image needs\n",
			       (unsigned long long)(cfg.mem_size >> 20));
	return vm;
}

/* The envelope opened: its TPGVM measured and launched, or NULL. */
static struct vm *measure_and_launch(const struct envelope_payload *payload,
				     struct measure_log *log)
{
	if (!measure(log, MEASURE_TPGVM_IMAGE, payload->image, payload->image_len,
		     "tpgvm image") ||
	    !measure(log, MEASURE_TPGVM_POLICY, payload->policy, payload->policy_len,
		     "tpgvm policy")) {
		console_printf("tpgvm: not launched: its measurement was not recorded (log full or TPM extend failed)\n");
		return NULL;
	}
	return launch(payload);
}

/* No key module: the TCB's keys are the TPM's (hv/tpm_tcb_key.c), usable
 * only on a launch the CA approved, with the certificates enrollment
 * issued for them. */
static struct vm *deliver_with_tpm_keys(const struct mb2_module *certs,
					const struct mb2_module *env,
					struct measure_log *log, uint32_t report_debug)
{
	struct envelope_kex kex = { .ecdh = tpm_tcb_key_ecdh };
	struct envelope_payload payload;
	const uint8_t *root;
	struct tcb_certs tc;
	struct vm *vm = NULL;
	size_t root_len;
	char err[224];

	root = ca_root(&root_len);
	console_printf("tpgvm: key protection: tpm (no key module: the TCB's keys live "
		       "in the TPM)\n");
	if (!tpm_tcb_key_usable()) {
		console_printf("tpgvm: the TPM-resident TCB keys are not usable on this "
			       "launch (the tpm: lines above say why): no TPGVM\n");
		return NULL;
	}
	if (tcb_certs_parse(module_bytes(certs), certs->end - certs->start, &tc, err,
			    sizeof(err)) ||
	    tcb_identity_check_tpm(&tc, tpm_tcb_key_public(true), tpm_tcb_key_public(false),
				   root, root_len, err, sizeof(err))) {
		console_printf("tpgvm: TCB identity refused: %s\n", err);
		return NULL;
	}
	memcpy(kex.pub, tpm_tcb_key_public(false), sizeof(kex.pub));
	if (envelope_open_with(module_bytes(env), env->end - env->start, root, root_len,
			       tc.kex_cert, tc.kex_cert_len, &kex, &payload, err,
			       sizeof(err)) != ENV_OPEN_OK) {
		console_printf("tpgvm: envelope refused: %s\n", err);
		return NULL;
	}
	vm = measure_and_launch(&payload, log);
	if (vm)
		keep_report_source(&tc, log, report_debug, true);
	return vm;
}

struct vm *tpgvm_deliver(const struct mb2_info *info, struct measure_log *log,
			 uint32_t report_debug,
			 uint64_t *released_frames)
{
	const struct mb2_module *keys = mb2_find_module(info, MODULE_TCB_KEYS);
	const struct mb2_module *certs = mb2_find_module(info, MODULE_TCB_CERTS);
	const struct mb2_module *env = mb2_find_module(info, MODULE_ENVELOPE);
	struct envelope_payload payload;
	struct tcb_certs tc;
	struct vm *vm = NULL;

	released = released_frames;
	if (!keys && certs && env) {
		vm = deliver_with_tpm_keys(certs, env, log, report_debug);
		release_module(env);
		return vm;
	}
	if (!keys || !certs || !env) {
		console_printf("tpgvm: no %s module\n", !env ? MODULE_ENVELOPE :
			       !keys ? MODULE_TCB_KEYS : MODULE_TCB_CERTS);
		if (keys)
			release_module(keys);
		return NULL;
	}
#ifdef CUSTOS_PRODUCTION
	/* A production TCB's keys never travel in the clear: they are born
	 * in and usable only from the TPM (no key module at all). Plaintext
	 * keys are for development builds (docs/boot.md). */
	console_printf("tpgvm: TCB key module refused: this is a production "
		       "build, which takes no plaintext TCB keys (its keys are the "
		       "TPM's: boot it without the tcb-keys module)\n");
	release_module(keys);
	return NULL;
#endif
	console_printf("tpgvm: key protection: dev (plaintext key module; "
		       "development TCB identity required)\n");
	if (load_tcb_identity(keys, certs, &tc)) {
		char err[200];
		size_t root_len;
		const uint8_t *root = ca_root(&root_len);
		int rc = envelope_open(module_bytes(env), env->end - env->start,
				       root, root_len, tc.kex_cert,
				       tc.kex_cert_len, tcb_keys.kex_priv,
				       &payload, err, sizeof(err));
		if (rc != ENV_OPEN_OK)
			console_printf("tpgvm: envelope refused: %s\n", err);
		else
			vm = measure_and_launch(&payload, log);
		if (vm)
			keep_report_source(&tc, log, report_debug, false);
	}
	release_module(env);
	return vm;
}

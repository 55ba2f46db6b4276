/*
 * TPM2_Quote verification (tools/quote_verify.h). The signature is checked
 * before the attest is read, so libtss2-mu only ever sees bytes the AK
 * signed; the attest is still read strictly (every byte consumed, every
 * field compared), because a signature proves who made it, not what the
 * verifier asked for.
 */
#include "tools/quote_verify.h"

#include <string.h>
#include <tss2/tss2_mu.h>

#include "crypto/crypto.h"
#include "tcb/errmsg.h"

static void clear_err(char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
}

/* The caller's side of the contract: what no quote can match. */
static int check_args(const uint8_t *attest, const uint8_t *sig,
		      const uint8_t *ak_pub, const uint8_t *qualifying,
		      size_t qualifying_len, uint32_t pcr_mask,
		      const uint8_t (*pcrs)[QUOTE_PCR_LEN], char *err,
		      size_t err_len)
{
	if (!attest || !sig || !ak_pub || !pcrs || (qualifying_len && !qualifying))
		return errmsg(err, err_len, "quote: missing input");
	if (qualifying_len > QUOTE_QUALIFYING_MAX)
		return errmsg(err, err_len,
			      "quote: qualifying data of %zu bytes (at most %u)",
			      qualifying_len, QUOTE_QUALIFYING_MAX);
	if (pcr_mask == 0 || pcr_mask >> QUOTE_PCR_COUNT)
		return errmsg(err, err_len,
			      "quote: PCR mask 0x%08x (must select some of PCRs 0..23)",
			      pcr_mask);
	return 0;
}

static int check_signature(const uint8_t *attest, size_t attest_len,
			   const uint8_t *sig, const uint8_t *ak_pub, char *err,
			   size_t err_len)
{
	uint8_t digest[CRYPTO_SHA384_LEN];

	crypto_sha384(attest, attest_len, digest);
	if (crypto_ecdsa_p384_verify(ak_pub, digest, sizeof(digest), sig) != CRYPTO_OK)
		return errmsg(err, err_len,
			      "quote: the signature does not verify with the attestation key");
	return 0;
}

/* The whole attest through libtss2-mu, then its header fields. */
static int read_attest(const uint8_t *attest, size_t attest_len, TPMS_ATTEST *a,
		       char *err, size_t err_len)
{
	size_t off = 0;
	TSS2_RC rc;

	memset(a, 0, sizeof(*a));
	rc = Tss2_MU_TPMS_ATTEST_Unmarshal(attest, attest_len, &off, a);
	if (rc != TSS2_RC_SUCCESS)
		return errmsg(err, err_len,
			      "quote: the attest of %zu bytes does not unmarshal (TSS2 rc 0x%x)",
			      attest_len, rc);
	if (off != attest_len)
		return errmsg(err, err_len,
			      "quote: %zu bytes after the attest's %zu",
			      attest_len - off, off);
	if (a->magic != TPM2_GENERATED_VALUE)
		return errmsg(err, err_len,
			      "quote: attest magic 0x%08x, not TPM_GENERATED_VALUE",
			      a->magic);
	if (a->type != TPM2_ST_ATTEST_QUOTE)
		return errmsg(err, err_len,
			      "quote: attest type 0x%04x, not TPM_ST_ATTEST_QUOTE (0x%04x)",
			      a->type, TPM2_ST_ATTEST_QUOTE);
	return 0;
}

/* extraData: the verifier's nonce, which makes the quote a fresh one. */
static int check_qualifying(const TPM2B_DATA *extra, const uint8_t *qualifying,
			    size_t qualifying_len, char *err, size_t err_len)
{
	if (extra->size != qualifying_len ||
	    (qualifying_len && memcmp(extra->buffer, qualifying, qualifying_len) != 0))
		return errmsg(err, err_len,
			      "quote: extraData (%u bytes) is not the qualifying data (%zu bytes)",
			      extra->size, qualifying_len);
	return 0;
}

static int check_selection(const TPML_PCR_SELECTION *sel, uint32_t pcr_mask,
			   char *err, size_t err_len)
{
	const TPMS_PCR_SELECTION *s = &sel->pcrSelections[0];
	uint32_t map = 0;

	if (sel->count != 1)
		return errmsg(err, err_len, "quote: %u PCR selections, expected one",
			      sel->count);
	if (s->hash != TPM2_ALG_SHA384)
		return errmsg(err, err_len, "quote: PCR bank 0x%04x, expected SHA-384",
			      s->hash);
	/* libtss2-mu bounds sizeofSelect by pcrSelect's size (4 bytes). */
	for (uint32_t i = 0; i < s->sizeofSelect; i++)
		map |= (uint32_t)s->pcrSelect[i] << (8 * i);
	if (map != pcr_mask)
		return errmsg(err, err_len, "quote: PCRs 0x%06x, expected 0x%06x",
			      map, pcr_mask);
	return 0;
}

/* pcrDigest: SHA-384 over the selected values, lowest PCR first (Part 3,
 * TPM2_Quote; the bank's hash, which is also the AK's). */
static int check_pcr_digest(const TPM2B_DIGEST *digest, uint32_t pcr_mask,
			    const uint8_t (*pcrs)[QUOTE_PCR_LEN], char *err,
			    size_t err_len)
{
	struct crypto_sha384_ctx c;
	uint8_t want[CRYPTO_SHA384_LEN];

	crypto_sha384_init(&c);
	for (uint32_t i = 0; i < QUOTE_PCR_COUNT; i++)
		if (pcr_mask & 1u << i)
			crypto_sha384_update(&c, pcrs[i], QUOTE_PCR_LEN);
	crypto_sha384_final(&c, want);
	if (digest->size != sizeof(want) ||
	    memcmp(digest->buffer, want, sizeof(want)) != 0)
		return errmsg(err, err_len,
			      "quote: pcrDigest does not match the PCR values given");
	return 0;
}

int quote_verify(const uint8_t *attest, size_t attest_len, const uint8_t sig[96],
		 const uint8_t ak_pub[97], const uint8_t *qualifying,
		 size_t qualifying_len, uint32_t pcr_mask,
		 const uint8_t pcrs[][QUOTE_PCR_LEN], struct quote_clock *clock,
		 char *err, size_t err_len)
{
	TPMS_ATTEST a;

	if (check_args(attest, sig, ak_pub, qualifying, qualifying_len, pcr_mask,
		       pcrs, err, err_len) != 0 ||
	    check_signature(attest, attest_len, sig, ak_pub, err, err_len) != 0 ||
	    read_attest(attest, attest_len, &a, err, err_len) != 0 ||
	    check_qualifying(&a.extraData, qualifying, qualifying_len, err,
			     err_len) != 0 ||
	    check_selection(&a.attested.quote.pcrSelect, pcr_mask, err, err_len) != 0 ||
	    check_pcr_digest(&a.attested.quote.pcrDigest, pcr_mask, pcrs, err,
			     err_len) != 0)
		return -1;
	if (clock) {
		clock->reset_count = a.clockInfo.resetCount;
		clock->restart_count = a.clockInfo.restartCount;
		clock->firmware_version = a.firmwareVersion;
	}
	clear_err(err, err_len);
	return 0;
}

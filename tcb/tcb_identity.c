/*
 * The TCB identity policy (tcb/tcb_identity.h, docs/pki.md): plaintext keys
 * go only with development-role certificates. The role checks come first
 * and cost no signature check (crypto_x509_roles), so a production
 * certificate is refused before anything else is done with it.
 */
#include "tcb/tcb_identity.h"
#include "crypto/crypto.h"
#include "tcb/errmsg.h"

#include <string.h>

#define WHY_LEN 160

/* One certificate of the pair: the development role it needs, the
 * production role it must not name, what to call it in messages. */
struct wanted {
	const uint8_t *der;
	size_t len;
	enum crypto_role dev, production;
	const char *what;
};

static int check_role(const struct wanted *w, char *err, size_t err_len)
{
	unsigned roles;
	int rc = crypto_x509_roles(w->der, w->len, &roles);

	if (rc == CRYPTO_E_NOMEM)
		return errmsg(err, err_len, "out of memory reading the TCB %s certificate",
			      w->what);
	if (rc != CRYPTO_OK)
		return errmsg(err, err_len,
			      "the TCB %s certificate is not an X.509 certificate",
			      w->what);
	if (roles & CRYPTO_ROLE_BIT(w->production))
		return errmsg(err, err_len,
			      "the TCB %s certificate has the production role %s, but its private key came in the clear from the boot media: a production TCB identity never travels in the clear",
			      w->what, crypto_role_name(w->production));
	if (!(roles & CRYPTO_ROLE_BIT(w->dev)))
		return errmsg(err, err_len,
			      "the TCB %s certificate lacks the %s role that a plaintext key module requires",
			      w->what, crypto_role_name(w->dev));
	return 0;
}

static int check_signing_key(const struct tcb_keys *keys,
			     const struct tcb_certs *certs, const uint8_t *root,
			     size_t root_len, char *err, size_t err_len)
{
	uint8_t cert_pub[CRYPTO_P384_PUB_LEN], priv_pub[CRYPTO_P384_PUB_LEN];
	char why[WHY_LEN] = "";

	if (crypto_x509_verify(certs->sign_cert, certs->sign_cert_len, root,
			       root_len, CRYPTO_ROLE_TCB_SIGN_DEV, cert_pub, why,
			       sizeof(why)) != CRYPTO_OK)
		return errmsg(err, err_len,
			      "the TCB signing certificate is not usable: %s", why);
	if (crypto_p384_public(keys->sign_priv, priv_pub) != CRYPTO_OK)
		return errmsg(err, err_len,
			      "the TCB signing private key is not a valid P-384 key");
	if (memcmp(cert_pub, priv_pub, sizeof(cert_pub)) != 0)
		return errmsg(err, err_len,
			      "the TCB signing private key does not match its certificate");
	return 0;
}

int tcb_identity_check_plaintext(const struct tcb_keys *keys,
				 const struct tcb_certs *certs,
				 const uint8_t *root, size_t root_len,
				 char *err, size_t err_len)
{
	const struct wanted sign = {
		certs->sign_cert, certs->sign_cert_len, CRYPTO_ROLE_TCB_SIGN_DEV,
		CRYPTO_ROLE_TCB_SIGN, "signing",
	};
	const struct wanted kex = {
		certs->kex_cert, certs->kex_cert_len, CRYPTO_ROLE_TCB_KEX_DEV,
		CRYPTO_ROLE_TCB_KEX, "key-agreement",
	};

	if (err && err_len)
		err[0] = '\0';
	if (check_role(&sign, err, err_len) || check_role(&kex, err, err_len))
		return -1;
	return check_signing_key(keys, certs, root, root_len, err, err_len);
}

/* One TPM-resident key's certificate: the production role, chained to
 * root, for exactly that key. */
static int check_tpm_cert(const uint8_t *cert, size_t len, enum crypto_role role,
			  const uint8_t pub[CRYPTO_P384_PUB_LEN], const char *what,
			  const uint8_t *root, size_t root_len, char *err, size_t err_len)
{
	uint8_t cert_pub[CRYPTO_P384_PUB_LEN];
	char why[WHY_LEN] = "";

	if (crypto_x509_verify(cert, len, root, root_len, role, cert_pub, why,
			       sizeof(why)) != CRYPTO_OK)
		return errmsg(err, err_len, "the TCB %s certificate is not a %s "
			      "certificate from the CA root: %s", what,
			      crypto_role_name(role), why);
	if (memcmp(cert_pub, pub, sizeof(cert_pub)) != 0)
		return errmsg(err, err_len, "the TCB %s certificate is for another key "
			      "than this TPM's (another platform's, or a cleared TPM)",
			      what);
	return 0;
}

int tcb_identity_check_tpm(const struct tcb_certs *certs,
			   const uint8_t sign_pub[CRYPTO_P384_PUB_LEN],
			   const uint8_t kex_pub[CRYPTO_P384_PUB_LEN],
			   const uint8_t *root, size_t root_len, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (check_tpm_cert(certs->sign_cert, certs->sign_cert_len, CRYPTO_ROLE_TCB_SIGN,
			   sign_pub, "signing", root, root_len, err, err_len))
		return -1;
	return check_tpm_cert(certs->kex_cert, certs->kex_cert_len, CRYPTO_ROLE_TCB_KEX,
			      kex_pub, "key-agreement", root, root_len, err, err_len);
}

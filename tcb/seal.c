/*
 * Sealed VM state (tcb/seal.h; docs/seal.md is the byte-exact layout and
 * the security argument).
 *
 * Both directions push the body through one AES-256-GCM stream
 * (crypto_aes256gcm_stream_*) in pieces of SEAL_CHUNK bytes kept inside the
 * writer or reader object: the writer gathers plaintext there, encrypts it
 * in place and hands the ciphertext to the sink; the reader fetches
 * ciphertext there from the source, decrypts it in place and copies the
 * plaintext out. Every piece but the last is SEAL_CHUNK bytes, and the
 * body is a multiple of 16 bytes, so the 16-byte rule of the streamed GCM
 * holds for any split of the caller's calls.
 *
 * The objects are state machines: a call out of order, with the wrong
 * length or after an error fails and leaves the object dead (GCM context
 * freed, everything wiped, plaintext included). Portable C: hypervisor and
 * host tests.
 */
#include "tcb/seal.h"
#include "tcb/errmsg.h"

#include <string.h>

/* Largest guest memory a blob may describe. */
#define SEAL_MEM_MAX   (1ull << 30)
/* The body goes through the cipher in pieces of this many bytes: a page,
 * so that each piece pays for the hypervisor's vector window (an XSAVE and
 * an XRSTOR, hv/simd_window.c) once per 4 KiB, not once per 512 bytes. */
#define SEAL_CHUNK     4096u
#define SEAL_LIVE      0x5345414cu /* "SEAL": begun, not dead */

_Static_assert(SEAL_CHUNK % 16 == 0, "GCM updates must be multiples of 16");
_Static_assert(SEAL_CHUNK >= SEAL_PAGE_SIZE, "a page is one piece");
_Static_assert(SEAL_E_MALFORMED == -1, "errmsg() returns -1");

enum stage {
	STAGE_CONTEXT = 1,
	STAGE_LIST,
	STAGE_PAGES,
};

/* The inside of a seal_writer or seal_reader. */
struct seal_state {
	struct crypto_gcm_stream gcm;
	uint8_t buf[SEAL_CHUNK];   /* writer: plaintext gathered; reader: plaintext to hand out */
	seal_sink sink;
	seal_source src;
	void *ctx;
	uint64_t off;              /* blob offset of the next sink/source call */
	uint64_t body_left;        /* reader: body bytes not fetched yet */
	uint64_t pages_at;         /* blob offset of the first page */
	uint64_t mem_size;
	uint64_t last_gpa;         /* the previous GPA of the page list */
	size_t buf_len;            /* bytes in buf */
	size_t buf_pos;            /* reader: next byte of buf to hand out */
	uint32_t context_len;
	uint32_t page_count;
	uint32_t list_done;        /* GPAs written/read so far */
	uint32_t pages_done;
	uint32_t live;             /* SEAL_LIVE, or 0 once dead (wiped) */
	uint32_t stage;
	bool pad_bad;              /* reader: a padding byte was not zero */
};

_Static_assert(sizeof(struct seal_state) <= sizeof(((struct seal_writer *)0)->opaque),
	       "struct seal_writer is too small");
_Static_assert(sizeof(struct seal_state) <= sizeof(((struct seal_reader *)0)->opaque),
	       "struct seal_reader is too small");
_Static_assert(sizeof(struct seal_writer) == sizeof(struct seal_reader),
	       "one wipe size for both");
_Static_assert(_Alignof(struct seal_state) <= _Alignof(uint64_t),
	       "struct seal_writer/seal_reader not aligned enough");

static const uint8_t zeros[16];

const char *seal_strerror(int err)
{
	switch (err) {
	case SEAL_OK: return "ok";
	case SEAL_E_MALFORMED: return "malformed sealed blob";
	case SEAL_E_AUTH: return "sealed blob does not authenticate";
	case SEAL_E_IO: return "sealed blob I/O failed";
	case SEAL_E_USAGE: return "sealed blob calls out of order";
	case SEAL_E_CRYPTO: return "crypto failure";
	default: return "unknown seal error";
	}
}

static uint64_t pad16(uint64_t n)
{
	return (n + 15) & ~(uint64_t)15;
}

static uint64_t body_size(uint32_t page_count, uint32_t context_len)
{
	return pad16(context_len) + pad16((uint64_t)page_count * 8) +
	       (uint64_t)page_count * SEAL_PAGE_SIZE;
}

uint64_t seal_blob_size(uint32_t page_count, uint32_t context_len)
{
	return SEAL_HEADER_LEN + body_size(page_count, context_len) + SEAL_TAG_LEN;
}

/* ---- the header ------------------------------------------------------------ */

/* Byte offsets (docs/seal.md). */
#define OFF_MAGIC        0
#define OFF_FORMAT       8
#define OFF_VM_ID        12
#define OFF_VERSION      16
#define OFF_OWNER        24
#define OFF_MEASUREMENT  72
#define OFF_MEM_SIZE     120
#define OFF_PAGE_COUNT   128
#define OFF_CONTEXT_LEN  132
#define OFF_IV           136
#define OFF_RESERVED     148

_Static_assert(OFF_RESERVED + 4 == SEAL_HEADER_LEN, "header layout");
_Static_assert(OFF_MEASUREMENT == OFF_OWNER + SEAL_OWNER_LEN, "header layout");
_Static_assert(OFF_MEM_SIZE == OFF_MEASUREMENT + SEAL_MEASURE_LEN, "header layout");
_Static_assert(OFF_RESERVED == OFF_IV + SEAL_IV_LEN, "header layout");

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void encode_header(const struct seal_header *h, uint8_t out[SEAL_HEADER_LEN])
{
	memset(out, 0, SEAL_HEADER_LEN);
	memcpy(out + OFF_MAGIC, SEAL_MAGIC, 8);
	put_le(out + OFF_FORMAT, SEAL_FORMAT, 4);
	put_le(out + OFF_VM_ID, h->vm_id, 4);
	put_le(out + OFF_VERSION, h->version, 8);
	memcpy(out + OFF_OWNER, h->owner, SEAL_OWNER_LEN);
	memcpy(out + OFF_MEASUREMENT, h->measurement, SEAL_MEASURE_LEN);
	put_le(out + OFF_MEM_SIZE, h->mem_size, 8);
	put_le(out + OFF_PAGE_COUNT, h->page_count, 4);
	put_le(out + OFF_CONTEXT_LEN, h->context_len, 4);
	memcpy(out + OFF_IV, h->iv, SEAL_IV_LEN);
}

/* What a header may say, whoever wrote it: the writer refuses to seal what
 * the reader would refuse to open. */
static int check_header(const struct seal_header *h, char *err, size_t err_len)
{
	if (h->mem_size == 0 || h->mem_size % SEAL_PAGE_SIZE != 0 ||
	    h->mem_size > SEAL_MEM_MAX)
		return errmsg(err, err_len,
			      "memory size 0x%llx is not a multiple of 4 KiB in 4 KiB..1 GiB",
			      (unsigned long long)h->mem_size);
	if (h->page_count > h->mem_size / SEAL_PAGE_SIZE)
		return errmsg(err, err_len, "%u pages do not fit in 0x%llx bytes of memory",
			      h->page_count, (unsigned long long)h->mem_size);
	if (h->context_len == 0 || h->context_len > SEAL_CONTEXT_MAX)
		return errmsg(err, err_len, "context length %u is not in 1..%u",
			      h->context_len, SEAL_CONTEXT_MAX);
	return 0;
}

int seal_read_header(seal_source src, void *ctx, uint64_t blob_len,
		     struct seal_header *h, char *err, size_t err_len)
{
	uint8_t raw[SEAL_HEADER_LEN];
	uint64_t want;

	if (err && err_len)
		err[0] = '\0';
	if (h == NULL || src == NULL)
		return errmsg(err, err_len, "no header or no source");
	memset(h, 0, sizeof(*h));
	if (blob_len < SEAL_HEADER_LEN + SEAL_TAG_LEN)
		return errmsg(err, err_len, "blob of %llu bytes is shorter than header and tag",
			      (unsigned long long)blob_len);
	if (!src(ctx, 0, raw, sizeof(raw))) {
		(void)errmsg(err, err_len, "cannot read the header");
		return SEAL_E_IO;
	}
	if (memcmp(raw + OFF_MAGIC, SEAL_MAGIC, 8) != 0)
		return errmsg(err, err_len, "not a sealed blob (magic)");
	if (get_le(raw + OFF_FORMAT, 4) != SEAL_FORMAT)
		return errmsg(err, err_len, "format %llu is not %u",
			      (unsigned long long)get_le(raw + OFF_FORMAT, 4), SEAL_FORMAT);
	if (get_le(raw + OFF_RESERVED, 4) != 0)
		return errmsg(err, err_len, "reserved header bytes are not zero");
	h->vm_id = (uint32_t)get_le(raw + OFF_VM_ID, 4);
	h->version = get_le(raw + OFF_VERSION, 8);
	memcpy(h->owner, raw + OFF_OWNER, SEAL_OWNER_LEN);
	memcpy(h->measurement, raw + OFF_MEASUREMENT, SEAL_MEASURE_LEN);
	h->mem_size = get_le(raw + OFF_MEM_SIZE, 8);
	h->page_count = (uint32_t)get_le(raw + OFF_PAGE_COUNT, 4);
	h->context_len = (uint32_t)get_le(raw + OFF_CONTEXT_LEN, 4);
	memcpy(h->iv, raw + OFF_IV, SEAL_IV_LEN);
	if (check_header(h, err, err_len))
		goto bad;
	want = seal_blob_size(h->page_count, h->context_len);
	if (blob_len != want) {
		(void)errmsg(err, err_len, "blob is %llu bytes, its header says %llu",
			     (unsigned long long)blob_len, (unsigned long long)want);
		goto bad;
	}
	return SEAL_OK;
bad:
	memset(h, 0, sizeof(*h));
	return SEAL_E_MALFORMED;
}

/* ---- common state ------------------------------------------------------------- */

/* Dead: the GCM context freed, the whole object (plaintext included)
 * wiped. */
static int dead(struct seal_state *s, int rc)
{
	crypto_aes256gcm_stream_abort(&s->gcm);
	crypto_wipe(s, sizeof(struct seal_writer));
	return rc;
}

static struct seal_state *live(uint64_t *opaque, uint32_t stage)
{
	struct seal_state *s = (struct seal_state *)(void *)opaque;

	if (s->live != SEAL_LIVE)
		return NULL;
	if (s->stage != stage) {
		dead(s, 0);
		return NULL;
	}
	return s;
}

/* Set up s for h (already checked) and start the GCM stream over the
 * encoded header. */
static int start(struct seal_state *s, const uint8_t key[SEAL_KEY_LEN],
		 const struct seal_header *h, bool encrypt)
{
	uint8_t raw[SEAL_HEADER_LEN];
	int rc;

	encode_header(h, raw);
	rc = crypto_aes256gcm_stream_begin(&s->gcm, key, h->iv, encrypt, raw, sizeof(raw));
	if (rc != CRYPTO_OK)
		return dead(s, SEAL_E_CRYPTO);
	s->off = SEAL_HEADER_LEN;
	s->body_left = body_size(h->page_count, h->context_len);
	s->pages_at = SEAL_HEADER_LEN + pad16(h->context_len) + pad16((uint64_t)h->page_count * 8);
	s->mem_size = h->mem_size;
	s->context_len = h->context_len;
	s->page_count = h->page_count;
	s->live = SEAL_LIVE;
	s->stage = STAGE_CONTEXT;
	return SEAL_OK;
}

/* One GPA of the list, after the previous one: page-aligned, ascending,
 * below the memory size. */
static bool gpa_ok(struct seal_state *s, uint64_t gpa)
{
	if (gpa % SEAL_PAGE_SIZE != 0 || gpa >= s->mem_size ||
	    (s->list_done > 0 && gpa <= s->last_gpa))
		return false;
	s->last_gpa = gpa;
	s->list_done++;
	return true;
}

/* Is the stream where seal_*_end may come? (An empty page list need not be
 * written or read at all.) */
static bool at_end(const struct seal_state *s)
{
	return s->live == SEAL_LIVE &&
	       ((s->stage == STAGE_PAGES && s->pages_done == s->page_count) ||
		(s->stage == STAGE_LIST && s->page_count == 0));
}

/* ---- writer ----------------------------------------------------------------------- */

static struct seal_state *wstate(struct seal_writer *w)
{
	return (struct seal_state *)(void *)w->opaque;
}

static int w_flush(struct seal_state *s)
{
	if (s->buf_len == 0)
		return SEAL_OK;
	if (crypto_aes256gcm_stream_update(&s->gcm, s->buf, s->buf_len, s->buf) != CRYPTO_OK)
		return dead(s, SEAL_E_CRYPTO);
	if (!s->sink(s->ctx, s->off, s->buf, s->buf_len))
		return dead(s, SEAL_E_IO);
	s->off += s->buf_len;
	s->buf_len = 0;
	return SEAL_OK;
}

static int w_put(struct seal_state *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		size_t n = SEAL_CHUNK - s->buf_len;
		int rc;

		if (n > len)
			n = len;
		memcpy(s->buf + s->buf_len, p, n);
		s->buf_len += n;
		p += n;
		len -= n;
		if (s->buf_len == SEAL_CHUNK && (rc = w_flush(s)) != SEAL_OK)
			return rc;
	}
	return SEAL_OK;
}

int seal_write_begin(struct seal_writer *w, const uint8_t key[SEAL_KEY_LEN],
		     struct seal_header *h, seal_sink sink, void *ctx)
{
	struct seal_state *s;
	uint8_t raw[SEAL_HEADER_LEN];
	int rc;

	if (w == NULL)
		return SEAL_E_USAGE;
	memset(w, 0, sizeof(*w)); /* a struct never used before is fine */
	s = wstate(w);
	if (key == NULL || h == NULL || sink == NULL)
		return SEAL_E_USAGE;
	if (check_header(h, NULL, 0))
		return SEAL_E_MALFORMED;
	if (crypto_random(h->iv, SEAL_IV_LEN) != CRYPTO_OK)
		return SEAL_E_CRYPTO;
	rc = start(s, key, h, true);
	if (rc != SEAL_OK)
		return rc;
	s->sink = sink;
	s->ctx = ctx;
	encode_header(h, raw);
	if (!sink(ctx, 0, raw, sizeof(raw)))
		return dead(s, SEAL_E_IO);
	return SEAL_OK;
}

int seal_write_context(struct seal_writer *w, const void *context, size_t len)
{
	struct seal_state *s = w ? live(w->opaque, STAGE_CONTEXT) : NULL;
	int rc;

	if (s == NULL)
		return SEAL_E_USAGE;
	if (context == NULL || len != s->context_len)
		return dead(s, SEAL_E_USAGE);
	if ((rc = w_put(s, context, len)) != SEAL_OK ||
	    (rc = w_put(s, zeros, (size_t)(pad16(len) - len))) != SEAL_OK)
		return rc;
	s->stage = STAGE_LIST;
	return SEAL_OK;
}

int seal_write_page_list(struct seal_writer *w, const uint64_t *gpas, uint32_t count)
{
	struct seal_state *s = w ? live(w->opaque, STAGE_LIST) : NULL;
	int rc;

	if (s == NULL)
		return SEAL_E_USAGE;
	if ((gpas == NULL && count != 0) || count > s->page_count - s->list_done)
		return dead(s, SEAL_E_USAGE);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t le8[8];

		if (!gpa_ok(s, gpas[i]))
			return dead(s, SEAL_E_MALFORMED);
		put_le(le8, gpas[i], 8);
		if ((rc = w_put(s, le8, 8)) != SEAL_OK)
			return rc;
	}
	if (s->list_done == s->page_count) {
		uint64_t list = (uint64_t)s->page_count * 8;

		if ((rc = w_put(s, zeros, (size_t)(pad16(list) - list))) != SEAL_OK ||
		    (rc = w_flush(s)) != SEAL_OK)
			return rc;
		s->stage = STAGE_PAGES;
	}
	return SEAL_OK;
}

int seal_write_page(struct seal_writer *w, const void *page)
{
	struct seal_state *s = w ? live(w->opaque, STAGE_PAGES) : NULL;

	if (s == NULL)
		return SEAL_E_USAGE;
	if (page == NULL || s->pages_done == s->page_count)
		return dead(s, SEAL_E_USAGE);
	/* The list flushed its piece (a multiple of 16 bytes), so each page is
	 * a piece of its own: through the cipher straight from the VM's page
	 * into buf, no copy first. */
	if (crypto_aes256gcm_stream_update(&s->gcm, page, SEAL_PAGE_SIZE, s->buf) != CRYPTO_OK)
		return dead(s, SEAL_E_CRYPTO);
	if (!s->sink(s->ctx, s->off, s->buf, SEAL_PAGE_SIZE))
		return dead(s, SEAL_E_IO);
	s->off += SEAL_PAGE_SIZE;
	s->pages_done++;
	return SEAL_OK;
}

int seal_write_end(struct seal_writer *w)
{
	struct seal_state *s;
	uint8_t tag[SEAL_TAG_LEN];
	int rc;

	if (w == NULL)
		return SEAL_E_USAGE;
	s = wstate(w);
	if (s->live != SEAL_LIVE)
		return SEAL_E_USAGE;
	if (!at_end(s))
		return dead(s, SEAL_E_USAGE);
	if ((rc = w_flush(s)) != SEAL_OK)
		return rc;
	if (s->off != SEAL_HEADER_LEN + body_size(s->page_count, s->context_len))
		return dead(s, SEAL_E_USAGE); /* cannot happen: the stages add up */
	rc = crypto_aes256gcm_stream_finish(&s->gcm, tag);
	if (rc != CRYPTO_OK)
		return dead(s, SEAL_E_CRYPTO);
	rc = s->sink(s->ctx, s->off, tag, sizeof(tag)) ? SEAL_OK : SEAL_E_IO;
	return dead(s, rc);
}

void seal_write_abort(struct seal_writer *w)
{
	if (w != NULL)
		(void)dead(wstate(w), SEAL_OK);
}

/* ---- reader ------------------------------------------------------------------------- */

static struct seal_state *rstate(struct seal_reader *r)
{
	return (struct seal_state *)(void *)r->opaque;
}

/* Fetch and decrypt the next piece of the body into buf. */
static int r_fill(struct seal_state *s)
{
	size_t n = s->body_left < SEAL_CHUNK ? (size_t)s->body_left : SEAL_CHUNK;

	/* A piece ends where the pages begin: they come whole (seal_read_page). */
	if (s->off < s->pages_at && s->pages_at - s->off < n)
		n = (size_t)(s->pages_at - s->off);

	if (n == 0)
		return SEAL_E_USAGE; /* cannot happen: the stages add up */
	if (!s->src(s->ctx, s->off, s->buf, n))
		return SEAL_E_IO;
	if (crypto_aes256gcm_stream_update(&s->gcm, s->buf, n, s->buf) != CRYPTO_OK)
		return SEAL_E_CRYPTO;
	s->off += n;
	s->body_left -= n;
	s->buf_len = n;
	s->buf_pos = 0;
	return SEAL_OK;
}

/* The next len bytes of plaintext into out (unauthenticated until the
 * end). On failure the object is dead and out wiped. */
static int r_get(struct seal_state *s, void *out, size_t len)
{
	uint8_t *p = out;
	size_t want = len;

	while (len > 0) {
		size_t n;
		int rc;

		if (s->buf_pos == s->buf_len && (rc = r_fill(s)) != SEAL_OK) {
			crypto_wipe(out, want);
			return dead(s, rc);
		}
		n = s->buf_len - s->buf_pos;
		if (n > len)
			n = len;
		memcpy(p, s->buf + s->buf_pos, n);
		s->buf_pos += n;
		p += n;
		len -= n;
	}
	return SEAL_OK;
}

/* The tag at the end of the body: SEAL_OK, SEAL_E_AUTH, ... */
static int r_tag(struct seal_state *s)
{
	uint8_t tag[SEAL_TAG_LEN];
	int rc;

	if (!s->src(s->ctx, s->off, tag, sizeof(tag)))
		return SEAL_E_IO;
	rc = crypto_aes256gcm_stream_verify(&s->gcm, tag);
	if (rc == CRYPTO_E_VERIFY)
		return SEAL_E_AUTH;
	return rc == CRYPTO_OK ? SEAL_OK : SEAL_E_CRYPTO;
}

/*
 * The decrypted body says something no writer writes (a bad page list):
 * why? Run the rest of the body through GCM (discarding it) and check the
 * tag. Not authentic (altered, another key, another IV): SEAL_E_AUTH,
 * the real reason. Authentic: SEAL_E_MALFORMED (a writer holding the key
 * broke the format). The object is dead either way.
 */
static int r_refuse(struct seal_state *s)
{
	int rc = SEAL_OK;

	while (rc == SEAL_OK && s->body_left > 0)
		rc = r_fill(s);
	if (rc == SEAL_OK)
		rc = r_tag(s);
	return dead(s, rc == SEAL_OK ? SEAL_E_MALFORMED : rc);
}

/* Read the padding after a section of len bytes; it must be zero (checked
 * once the tag has verified). */
static int r_pad(struct seal_state *s, uint64_t len)
{
	uint8_t pad[16];
	size_t n = (size_t)(pad16(len) - len);
	int rc = r_get(s, pad, n);

	if (rc == SEAL_OK && n > 0 && memcmp(pad, zeros, n) != 0)
		s->pad_bad = true;
	crypto_wipe(pad, sizeof(pad));
	return rc;
}

int seal_read_begin(struct seal_reader *r, const uint8_t key[SEAL_KEY_LEN],
		    const struct seal_header *h, seal_source src, void *ctx)
{
	struct seal_state *s;
	int rc;

	if (r == NULL)
		return SEAL_E_USAGE;
	memset(r, 0, sizeof(*r)); /* a struct never used before is fine */
	s = rstate(r);
	if (key == NULL || h == NULL || src == NULL)
		return SEAL_E_USAGE;
	if (check_header(h, NULL, 0))
		return SEAL_E_MALFORMED;
	rc = start(s, key, h, false);
	if (rc != SEAL_OK)
		return rc;
	s->src = src;
	s->ctx = ctx;
	return SEAL_OK;
}

int seal_read_context(struct seal_reader *r, void *context, size_t len)
{
	struct seal_state *s = r ? live(r->opaque, STAGE_CONTEXT) : NULL;
	int rc;

	if (s == NULL)
		return SEAL_E_USAGE;
	if (context == NULL || len != s->context_len)
		return dead(s, SEAL_E_USAGE);
	if ((rc = r_get(s, context, len)) != SEAL_OK)
		return rc;
	if ((rc = r_pad(s, len)) != SEAL_OK) {
		crypto_wipe(context, len);
		return rc;
	}
	s->stage = STAGE_LIST;
	return SEAL_OK;
}

int seal_read_page_list(struct seal_reader *r, uint64_t *gpas, uint32_t count)
{
	struct seal_state *s = r ? live(r->opaque, STAGE_LIST) : NULL;
	int rc;

	if (s == NULL)
		return SEAL_E_USAGE;
	if ((gpas == NULL && count != 0) || count > s->page_count - s->list_done)
		return dead(s, SEAL_E_USAGE);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t le8[8];

		if ((rc = r_get(s, le8, 8)) != SEAL_OK) {
			crypto_wipe(gpas, (size_t)count * 8);
			return rc;
		}
		gpas[i] = get_le(le8, 8);
		if (!gpa_ok(s, gpas[i])) {
			crypto_wipe(gpas, (size_t)count * 8);
			return r_refuse(s);
		}
	}
	if (s->list_done == s->page_count) {
		if ((rc = r_pad(s, (uint64_t)s->page_count * 8)) != SEAL_OK) {
			crypto_wipe(gpas, (size_t)count * 8);
			return rc;
		}
		s->stage = STAGE_PAGES;
	}
	return SEAL_OK;
}

int seal_read_page(struct seal_reader *r, void *page)
{
	struct seal_state *s = r ? live(r->opaque, STAGE_PAGES) : NULL;

	if (s == NULL)
		return SEAL_E_USAGE;
	if (page == NULL || s->pages_done == s->page_count)
		return dead(s, SEAL_E_USAGE);
	/* Pieces end where the pages begin (r_fill), so a page is one piece:
	 * its ciphertext straight into the page and decrypted there. It is
	 * not authenticated before seal_read_end, like every byte read. */
	if (s->buf_pos != s->buf_len || s->body_left < SEAL_PAGE_SIZE)
		return dead(s, SEAL_E_USAGE); /* cannot happen: the stages add up */
	if (!s->src(s->ctx, s->off, page, SEAL_PAGE_SIZE)) {
		crypto_wipe(page, SEAL_PAGE_SIZE);
		return dead(s, SEAL_E_IO);
	}
	if (crypto_aes256gcm_stream_update(&s->gcm, page, SEAL_PAGE_SIZE, page) != CRYPTO_OK) {
		crypto_wipe(page, SEAL_PAGE_SIZE);
		return dead(s, SEAL_E_CRYPTO);
	}
	s->off += SEAL_PAGE_SIZE;
	s->body_left -= SEAL_PAGE_SIZE;
	s->pages_done++;
	return SEAL_OK;
}

int seal_read_end(struct seal_reader *r)
{
	struct seal_state *s;
	int rc;

	if (r == NULL)
		return SEAL_E_USAGE;
	s = rstate(r);
	if (s->live != SEAL_LIVE)
		return SEAL_E_USAGE;
	if (!at_end(s))
		return dead(s, SEAL_E_USAGE);
	/* Every section is a multiple of 16 bytes, so nothing is left over
	 * (an empty page list that was never read has no padding either). */
	if (s->body_left != 0 || s->buf_pos != s->buf_len)
		return dead(s, SEAL_E_USAGE); /* cannot happen: the stages add up */
	rc = r_tag(s);
	/* Authentic, so written by a holder of the key: a non-zero padding
	 * byte is a writer's bug, refused all the same. */
	if (rc == SEAL_OK && s->pad_bad)
		rc = SEAL_E_MALFORMED;
	return dead(s, rc);
}

void seal_read_abort(struct seal_reader *r)
{
	if (r != NULL)
		(void)dead(rstate(r), SEAL_OK);
}

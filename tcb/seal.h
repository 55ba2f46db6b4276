/*
 * Sealed VM state (docs/seal.md is the byte-exact spec): what HC_VM_STOP
 * writes and HC_VM_START reads back. The TPGVM and the relay's storage hold
 * it and may alter, swap or roll it back; only the TCB, with the VM's key,
 * can open it.
 *
 *   header   fixed SEAL_HEADER_LEN bytes, in the clear, all of it the
 *            AES-GCM associated data: magic "CUSTSEAL", format, VM id,
 *            version counter, owner, launch measurement, memory size,
 *            page count, context length, IV
 *   body     AES-256-GCM ciphertext, one stream:
 *              context    the vCPU state (opaque to this file), padded to
 *                         a multiple of 16 bytes
 *              page list  page_count u64 GPAs, ascending, page-aligned,
 *                         below mem_size; padded to a multiple of 16
 *              pages      page_count x 4096 bytes, in list order
 *   tag      16 bytes
 *
 * One key per VM (32 random bytes, TCB memory only, shredded at destroy);
 * a fresh random IV per seal. Integers little-endian.
 *
 * Writing and reading are streamed through callbacks, so a blob never has
 * to sit whole in TCB memory: the hypervisor writes it straight into the
 * TPGVM's buffer and reads it from there. A reader hands out plaintext
 * before the tag is checked (GCM verifies at the end): the caller puts it
 * only into fresh frames and commits nothing until seal_read_end() says
 * the blob is authentic.
 *
 * Portable C (host-tested); uses crypto/crypto.h.
 */
#ifndef CUSTOS_TCB_SEAL_H
#define CUSTOS_TCB_SEAL_H

#include <custos/types.h>
#include "crypto/crypto.h"

#define SEAL_MAGIC          "CUSTSEAL"
#define SEAL_FORMAT         1u
#define SEAL_HEADER_LEN     152u
#define SEAL_KEY_LEN        32u
#define SEAL_IV_LEN         12u
#define SEAL_TAG_LEN        16u
#define SEAL_PAGE_SIZE      4096u
#define SEAL_OWNER_LEN      48u
#define SEAL_MEASURE_LEN    48u
#define SEAL_CONTEXT_MAX    (64u << 10)

struct seal_header {
	uint32_t vm_id;
	/* 1 for the first seal of a stopped VM; 0 for its boot copy (the VM
	 * as loaded, sealed at its first start: docs/seal.md) */
	uint64_t version;
	uint8_t owner[SEAL_OWNER_LEN];
	uint8_t measurement[SEAL_MEASURE_LEN];  /* the launch measurement */
	uint64_t mem_size;
	uint32_t page_count;
	uint32_t context_len;                   /* 1..SEAL_CONTEXT_MAX */
	uint8_t iv[SEAL_IV_LEN];                /* set by seal_write_begin */
};

enum seal_err {
	SEAL_OK = 0,
	SEAL_E_MALFORMED = -1, /* header or sizes wrong, page list not ascending ... */
	SEAL_E_AUTH = -2,      /* the tag does not verify: altered, another key */
	SEAL_E_IO = -3,        /* the sink or source callback failed */
	SEAL_E_USAGE = -4,     /* calls out of order, wrong lengths */
	SEAL_E_CRYPTO = -5,    /* the crypto layer failed (RNG) */
};

/* Total blob bytes for this many pages and this context length. */
uint64_t seal_blob_size(uint32_t page_count, uint32_t context_len);

/* The callbacks: write/read len bytes at byte offset off of the blob. */
typedef bool (*seal_sink)(void *ctx, uint64_t off, const void *data, size_t len);
typedef bool (*seal_source)(void *ctx, uint64_t off, void *data, size_t len);

struct seal_writer {
	uint64_t opaque[608]; /* GCM state, a 4 KiB piece and progress (tcb/seal.c asserts it fits) */
};

/*
 * Seal in this order: begin (picks the IV, writes the header), context
 * (exactly h->context_len bytes), page list (exactly h->page_count GPAs,
 * in one call or several with consecutive parts), each page (page_count times, in list order), end (writes the tag).
 * Every call returns SEAL_OK or an error after which the writer is dead.
 */
int seal_write_begin(struct seal_writer *w, const uint8_t key[SEAL_KEY_LEN],
		     struct seal_header *h, seal_sink sink, void *ctx);
int seal_write_context(struct seal_writer *w, const void *context, size_t len);
int seal_write_page_list(struct seal_writer *w, const uint64_t *gpas, uint32_t count);
int seal_write_page(struct seal_writer *w, const void *page);
int seal_write_end(struct seal_writer *w);
/* Give up on a writer half-way (frees and wipes its GCM state; harmless on
 * a writer that has ended or died). A writer that is neither ended nor
 * dead holds heap memory until this is called. */
void seal_write_abort(struct seal_writer *w);

/* Parse and check the header of a blob of blob_len bytes (magic, format,
 * sizes consistent with blob_len, context_len and page_count in range,
 * mem_size sane). Nothing is authenticated yet. 0 or SEAL_E_MALFORMED with
 * a reason in err (SEAL_E_IO if the source fails). */
int seal_read_header(seal_source src, void *ctx, uint64_t blob_len,
		     struct seal_header *h, char *err, size_t err_len);

struct seal_reader {
	uint64_t opaque[608];
};

/*
 * Open in this order after seal_read_header: begin, context, page list
 * (in one or several calls; checked: ascending, page-aligned, below
 * h->mem_size), each page, end.
 * Only SEAL_OK from seal_read_end() makes what was read trustworthy.
 * A page list that fails the check is refused on the spot; before saying
 * why, the reader runs the rest of the blob through GCM: SEAL_E_AUTH if the
 * tag does not verify (altered, another key: the usual case),
 * SEAL_E_MALFORMED only if it does (a key holder wrote a bad list).
 */
int seal_read_begin(struct seal_reader *r, const uint8_t key[SEAL_KEY_LEN],
		    const struct seal_header *h, seal_source src, void *ctx);
int seal_read_context(struct seal_reader *r, void *context, size_t len);
int seal_read_page_list(struct seal_reader *r, uint64_t *gpas, uint32_t count);
int seal_read_page(struct seal_reader *r, void *page);
int seal_read_end(struct seal_reader *r);
/* Give up on a reader half-way (as seal_write_abort). */
void seal_read_abort(struct seal_reader *r);

/* Short name of a seal_err. */
const char *seal_strerror(int err);

#endif

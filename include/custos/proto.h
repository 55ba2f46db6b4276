/*
 * The tenant protocol: the messages a tenant and the TPGVM exchange inside
 * their TLS channel (docs/protocol.md is the byte-exact spec). Shared by the
 * TPGVM and the tenant CLI (build/bin/custos) so they cannot drift apart.
 *
 * A message is an 8-byte header and a body:
 *   u32 body length (little-endian), u16 type, u16 reserved (must be 0)
 * The peer is untrusted in both directions (a tenant may be hostile, and the
 * TPGVM may be an impostor until its report verifies), so every header is
 * checked against the limits of its type before its length is believed.
 */
#ifndef CUSTOS_PROTO_H
#define CUSTOS_PROTO_H

#include <custos/types.h>

#define PROTO_HDR_LEN      8u
#define PROTO_MAX_BODY     (80u << 10) /* >= the largest body of any type
                                          * (asserted in wire/proto.c) */
#define PROTO_ERROR_TEXT_MAX 200u

enum proto_type {
	/* tenant -> TPGVM: body = nonce, REPORT_NONCE_MIN..MAX bytes */
	PROTO_ATTEST_REQ = 1,
	/* TPGVM -> tenant: body = the signed report (include/custos/report.h) */
	PROTO_ATTEST_RESP = 2,
	/* TPGVM -> tenant: body = u32 code (enum proto_error) + text
	 * (0..PROTO_ERROR_TEXT_MAX printable ASCII bytes, no NUL) */
	PROTO_ERROR = 3,

	/* ---- VM lifecycle (docs/protocol.md, docs/lifecycle.md) ----------
	 * The tenant names its VMs; names are per tenant (another tenant's VM
	 * of the same name is a different VM, and invisible). Every request is
	 * answered with PROTO_VM_INFO, PROTO_VM_CONSOLE_DATA or PROTO_ERROR.
	 * Bodies are fixed structs (below), little-endian, then variable data. */
	PROTO_VM_CREATE = 0x10,  /* struct proto_vm_create + secrets bytes
				  * + kernel command line bytes */
	PROTO_VM_UPLOAD = 0x11,  /* struct proto_vm_upload + 1..PROTO_CHUNK_MAX bytes */
	PROTO_VM_START = 0x12,   /* struct proto_vm_start */
	PROTO_VM_STOP = 0x13,    /* struct proto_vm_name */
	PROTO_VM_DESTROY = 0x14, /* struct proto_vm_name */
	PROTO_VM_STATUS = 0x15,  /* struct proto_vm_name */
	PROTO_VM_LIST = 0x16,    /* empty body */
	PROTO_VM_CONSOLE = 0x17, /* struct proto_vm_name: drain its console */
	/* struct proto_vm_name + 1..PROTO_CONSOLE_INPUT_MAX bytes for the
	 * running VM's console (its UART's receive side) */
	PROTO_VM_CONSOLE_INPUT = 0x18,

	/* TPGVM -> tenant: 0..PROTO_VM_LIST_MAX struct proto_vm_info (one for
	 * every request but LIST; DESTROY answers the last info, state 0) */
	PROTO_VM_INFO = 0x20,
	/* TPGVM -> tenant: 0..PROTO_CHUNK_MAX console bytes (as the guest wrote
	 * them: the tenant's terminal must not trust them) */
	PROTO_VM_CONSOLE_DATA = 0x21,
	/* TPGVM -> tenant: u32, how many of the CONSOLE_INPUT bytes the VM's
	 * UART took (the rest: offer again later) */
	PROTO_VM_INPUT_TAKEN = 0x22,
	/* TPGVM -> tenant: empty body. The request is still being worked on
	 * (a start or stop moving a blob through storage): sent every
	 * PROTO_WAIT_NOTE_S while the request waits, before its answer. The
	 * tenant reads on; the relay sees its session is not idle. */
	PROTO_WAIT = 0x23,
};

/* Seconds (of platform time) between two PROTO_WAIT notes. */
#define PROTO_WAIT_NOTE_S 60u

#define PROTO_VM_NAME_MAX   32u          /* with NUL: [a-z0-9_-]{1,31} */
#define PROTO_CHUNK_MAX     (12u << 10)  /* upload and console chunks */
#define PROTO_SECRETS_MAX   4096u
#define PROTO_SALT_LEN      32u
#define PROTO_VM_LIST_MAX   16u
#define PROTO_CONSOLE_INPUT_MAX 1024u
#define PROTO_KERNEL_MAX    (16u << 20)  /* = HC_VM_KERNEL_MAX */
#define PROTO_INITRD_MAX    (32u << 20)  /* = HC_VM_INITRD_MAX */
#define PROTO_CMDLINE_MAX   2048u        /* = HC_VM_CMDLINE_MAX, with the NUL */

/* Which part of a VM an upload chunk belongs to. */
enum proto_vm_part {
	PROTO_PART_IMAGE = 1,     /* the ELF image, or the Linux bzImage */
	PROTO_PART_INIT_DATA = 2,
	PROTO_PART_INITRD = 3,    /* a Linux VM's initrd */
};

/* How a VM boots (= enum hc_boot_protocol, include/custos/guest_abi.h). */
enum proto_boot {
	PROTO_BOOT_ELF = 0,
	PROTO_BOOT_LINUX64 = 1,   /* bzImage, 64-bit entry (tcb/linux_boot.h) */
};

struct proto_vm_name {
	char name[PROTO_VM_NAME_MAX];   /* NUL-terminated, NUL-padded */
};

/* Start NAME. How a VM that ran before comes back (docs/protocol.md, "VM
 * states and commands"): PROTO_START_DEFAULT boots a LOADED VM, resumes a
 * SEALED one where its owner stopped it, and boots an EXITED one (it
 * stopped itself) afresh from its boot copy; RESUME resumes an EXITED or
 * SEALED VM from its latest sealed state; AFRESH boots either afresh. */
enum proto_start_mode {
	PROTO_START_DEFAULT = 0,
	PROTO_START_RESUME = 1,
	PROTO_START_AFRESH = 2,
};

struct proto_vm_start {
	char name[PROTO_VM_NAME_MAX];
	uint32_t mode;           /* enum proto_start_mode */
	uint32_t reserved;       /* 0 */
};

/* Create NAME: the TCB takes and zeroes its memory now; the image and init
 * data follow in PROTO_VM_UPLOAD chunks, and when the last byte of both
 * has arrived the TPGVM loads the VM (the TCB measures it: state LOADED).
 * The secrets (KEY=VALUE strings, each NUL-terminated) follow this struct
 * in the body, then the kernel command line; salt is the tenant's, for the
 * salted secrets hash.
 *
 * A Linux VM (boot_protocol PROTO_BOOT_LINUX64): the image is a bzImage
 * (1..16 MiB), the initrd (0..32 MiB) is uploaded as PROTO_PART_INITRD,
 * the command line (0, or 1..2048 bytes whose last is the only NUL)
 * follows the struct; no init data, no secrets. An ELF VM: initrd_len and
 * cmdline_len 0. */
struct proto_vm_create {
	char name[PROTO_VM_NAME_MAX];
	uint64_t mem_size;       /* multiple of 2 MiB, 2 MiB..1 GiB */
	uint64_t image_len;      /* ELF 1..8 MiB; LINUX64 1..16 MiB */
	uint64_t init_len;       /* 0..1 MiB; LINUX64 0 */
	uint32_t secrets_len;    /* 0..PROTO_SECRETS_MAX bytes after the struct */
	uint32_t reserved;       /* 0 */
	uint8_t salt[PROTO_SALT_LEN];
	uint32_t boot_protocol;  /* enum proto_boot */
	uint32_t cmdline_len;    /* LINUX64: 0..PROTO_CMDLINE_MAX bytes after the secrets */
	uint64_t initrd_len;     /* LINUX64: 0..PROTO_INITRD_MAX */
};

/* A chunk of NAME's image or init data at offset (chunks in order, each
 * acknowledged with PROTO_VM_INFO before the next is sent). */
struct proto_vm_upload {
	char name[PROTO_VM_NAME_MAX];
	uint32_t part;           /* enum proto_vm_part */
	uint32_t reserved;       /* 0 */
	uint64_t offset;
};

struct proto_vm_info {
	char name[PROTO_VM_NAME_MAX];
	uint32_t state;          /* enum hc_vm_state (guest_abi.h); 0 = destroyed */
	uint32_t flags;          /* PROTO_VM_INFO_* */
	uint64_t mem_size;
	uint64_t version;        /* times sealed */
	uint64_t image_len, image_received;  /* upload progress (CREATED) */
	uint64_t init_len, init_received;
	uint8_t measurement[48]; /* launch measurement; zero before load */
	char stop_reason[64];    /* EXITED, SEALED: why it stopped; NUL-terminated */
	uint64_t initrd_len, initrd_received; /* upload progress (CREATED) */
};

/* proto_vm_info.flags. SEALED: its state is sealed in the relay's
 * storage (always with SEALED; with EXITED once the TPGVM has sealed it,
 * which it does within seconds). AFRESH, RESUMED: in the answer to
 * VM_START only, how it came to run (neither: its first boot). */
#define PROTO_VM_INFO_SEALED  0x1u
#define PROTO_VM_INFO_AFRESH  0x2u
#define PROTO_VM_INFO_RESUMED 0x4u
#define PROTO_VM_INFO_FLAGS   0x7u

/* The bodies are exact little-endian layouts without implicit padding. */
_Static_assert(sizeof(struct proto_vm_name) == 32, "proto_vm_name layout");
_Static_assert(sizeof(struct proto_vm_start) == 40, "proto_vm_start layout");
_Static_assert(sizeof(struct proto_vm_create) == 112, "proto_vm_create layout");
_Static_assert(sizeof(struct proto_vm_upload) == 48, "proto_vm_upload layout");
_Static_assert(sizeof(struct proto_vm_info) == 216, "proto_vm_info layout");
_Static_assert(offsetof(struct proto_vm_create, salt) == 64,
	       "proto_vm_create layout");
_Static_assert(offsetof(struct proto_vm_info, measurement) == 88,
	       "proto_vm_info layout");
_Static_assert(offsetof(struct proto_vm_info, stop_reason) == 136,
	       "proto_vm_info layout");

/* Limits of the VM messages' fields (docs/protocol.md). */
#define PROTO_VM_MEM_ALIGN    (2ull << 20)  /* mem_size: multiple of 2 MiB */
#define PROTO_VM_MEM_MAX      (1ull << 30)  /* ... 2 MiB..1 GiB */
#define PROTO_VM_STATE_MAX    5u            /* HC_VM_SEALED; 0 = destroyed */
#define PROTO_SECRET_KEY_MAX  64u           /* KEY: [A-Za-z0-9_]{1,64} */
#define PROTO_SECRET_VALUE_MAX 1024u        /* VALUE: 0x20..0x7e, 0..1024 */

/* Codes of PROTO_ERROR messages. */
enum proto_error {
	PROTO_ERR_BAD_REQUEST = 1, /* malformed or unexpected message */
	PROTO_ERR_INTERNAL = 2,    /* the TPGVM or the TCB failed */
	PROTO_ERR_BUSY = 3,        /* try again later */
	PROTO_ERR_NOT_FOUND = 4,   /* no VM of that name (for this tenant) */
	PROTO_ERR_EXISTS = 5,      /* this tenant already has a VM of that name */
	PROTO_ERR_NO_MEMORY = 6,   /* the platform has not enough free memory */
	PROTO_ERR_STATE = 7,       /* not possible in the VM's state */
	PROTO_ERR_VERIFY = 8,      /* boot state or sealed state does not verify */
	PROTO_ERR_ROLLBACK = 9,    /* the stored sealed state is an older one */
	PROTO_ERR_STORAGE = 10,    /* the relay's storage failed or lacks the blob */
	PROTO_ERR_TOO_LARGE = 11,  /* image, init data or state beyond the limits */
};

/* A checked message; body points into the caller's buffer. */
struct proto_msg {
	uint16_t type;
	uint32_t len;
	const uint8_t *body;
};

/*
 * Check a header (PROTO_HDR_LEN bytes): known type, reserved zero, body
 * length within the type's limits. 0 and *type / *len set, or -1 with a
 * one-line reason in err (err may be NULL).
 */
int proto_parse_header(const uint8_t hdr[PROTO_HDR_LEN], uint16_t *type,
		       uint32_t *len, char *err, size_t err_len);

/* Check a whole message (header + exactly its body, nothing after) and its
 * body's structure (error code and text; the VM messages' names, fields,
 * secrets and records: docs/protocol.md). 0 or -1 + err. */
int proto_parse(const uint8_t *buf, size_t len, struct proto_msg *out,
		char *err, size_t err_len);

/* Write a header for a body of len bytes into hdr. */
void proto_write_header(uint8_t hdr[PROTO_HDR_LEN], uint16_t type, uint32_t len);

/* Encode a whole message into buf; bytes written, or 0 if it does not fit
 * or the body is invalid for the type. */
size_t proto_encode(uint16_t type, const void *body, size_t len, uint8_t *buf,
		    size_t cap);

/* Encode PROTO_ERROR(code, text); text is cut to PROTO_ERROR_TEXT_MAX and
 * any byte outside 0x20..0x7e becomes '?'. Bytes written or 0. */
size_t proto_encode_error(uint32_t code, const char *text, uint8_t *buf,
			  size_t cap);

/* ---- Helpers for the VM messages (TPGVM and tenant CLI) ---------------- */

/* Is name a valid VM name: 1..31 bytes of [a-z0-9_-], then a NUL, then
 * only NULs to the end of the 32 bytes? */
bool proto_vm_name_ok(const char name[PROTO_VM_NAME_MAX]);

/* proto_vm_info.state in the words docs/tenant-cli.md uses: "destroyed"
 * (0), "created" .. "sealed", or "unknown". */
const char *proto_vm_state_name(uint32_t state);

/* Write the C string s into out as a VM name (NUL-padded). 0, or -1 with
 * out unchanged if s is not a valid name. Reads at most 32 bytes of s. */
int proto_vm_name_set(char out[PROTO_VM_NAME_MAX], const char *s);

/* Check a secrets block: zero or more "KEY=VALUE\0" strings filling exactly
 * len bytes (len <= PROTO_SECRETS_MAX), KEY [A-Za-z0-9_]{1,64}, VALUE
 * 0..1024 bytes of 0x20..0x7e, no key twice. 0, or -1 with a one-line
 * reason in err (err may be NULL). */
int proto_secrets_check(const uint8_t *p, size_t len, char *err,
			size_t err_len);

/* Append the C string key_eq_value ("KEY=VALUE") and its NUL to the
 * secrets block buf[0..*len) of capacity cap, advancing *len. -1 with
 * nothing changed if the string is not a valid secret, its key is already
 * in the block, the block itself is invalid, or the result would exceed
 * cap or PROTO_SECRETS_MAX. */
int proto_secret_add(uint8_t *buf, size_t cap, size_t *len,
		     const char *key_eq_value);

/*
 * Incremental reader for a byte stream: feed whatever arrived; it keeps at
 * most one message (header + PROTO_MAX_BODY) in the caller's buffer.
 *   PROTO_READ_MORE   need more bytes
 *   PROTO_READ_MSG    *msg is a whole checked message (valid until the
 *                     next call); *used says how many input bytes it took
 *   PROTO_READ_ERROR  the stream is malformed (err says why): close it
 * *used is set on every return. The reader takes only the bytes that
 * complete the current message, so the caller feeds the rest (the next
 * message) in the next call. A header that its type's limits or cap
 * refuse fails as soon as it is complete, without waiting for the body.
 * After an error every further call fails again.
 */
enum proto_read_status { PROTO_READ_MORE, PROTO_READ_MSG, PROTO_READ_ERROR };

struct proto_reader {
	uint8_t *buf;  /* caller's, at least PROTO_HDR_LEN + PROTO_MAX_BODY */
	size_t cap;
	size_t have;
	bool deliver_pending; /* a message was returned; drop it on next feed */
};

void proto_reader_init(struct proto_reader *r, uint8_t *buf, size_t cap);
enum proto_read_status proto_reader_feed(struct proto_reader *r,
					 const uint8_t *data, size_t len,
					 size_t *used, struct proto_msg *msg,
					 char *err, size_t err_len);

#endif

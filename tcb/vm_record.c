/*
 * A sealed VM's record in its NV slot (tcb/vm_record.h has the layout).
 * The parser trusts nothing in the slot: every field is range-checked, a
 * slot must belong to the id it is read for, and a free slot must be empty
 * after its header, so that no stale key lingers in a slot called free.
 */
#include "tcb/vm_record.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"
#include <string.h>
#include "tcb/lifecycle.h"
#include "crypto/crypto.h"

#define OFF_MAGIC    0u
#define OFF_FORMAT   4u
#define OFF_FLAGS    6u
#define OFF_WRITES   8u
#define OFF_VM_ID    12u
#define OFF_NAME     16u
#define OFF_OWNER    48u
#define OFF_KEY      96u
#define OFF_VERSION  128u
#define OFF_MEM_SIZE 136u
#define OFF_MEASURE  144u
#define FLAG_IN_USE  0x1u
#define FLAG_STOPPED_ITSELF 0x2u

_Static_assert(OFF_MEASURE + VM_RECORD_DIGEST_LEN == VM_RECORD_LEN, "slot layout");
_Static_assert(OFF_OWNER - OFF_NAME == HC_VM_NAME_MAX, "name field");
_Static_assert(OFF_KEY - OFF_OWNER == HC_OWNER_LEN, "owner field");

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

static bool same(const uint8_t *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != (uint8_t)b[i])
			return false;
	return true;
}

/* The name field: a valid VM name, then only NULs. */
static bool name_ok(const uint8_t *field)
{
	char name[HC_VM_NAME_MAX];
	size_t n = 0;

	for (size_t i = 0; i < HC_VM_NAME_MAX; i++)
		name[i] = (char)field[i];
	if (!lifecycle_name_ok(name))
		return false;
	while (name[n])
		n++;
	return all_zero(field + n, HC_VM_NAME_MAX - n);
}

static int parse_in_use(const uint8_t *s, struct vm_record *r, char *err,
			size_t err_len)
{
	if (!name_ok(s + OFF_NAME))
		return errmsg(err, err_len, "VM record %u: the name is not a VM name",
			      r->vm_id);
	r->version = load_le64(s + OFF_VERSION);
	r->mem_size = load_le64(s + OFF_MEM_SIZE);
	if (r->version == 0)
		return errmsg(err, err_len, "VM record %u: version 0 (a record "
			      "exists only from the first seal)", r->vm_id);
	if (!lifecycle_mem_ok(r->mem_size))
		return errmsg(err, err_len, "VM record %u: memory size %llu is not "
			      "one a VM can have", r->vm_id,
			      (unsigned long long)r->mem_size);
	if (all_zero(s + OFF_KEY, VM_RECORD_KEY_LEN))
		return errmsg(err, err_len, "VM record %u: the key is all zero",
			      r->vm_id);
	r->in_use = true;
	for (size_t i = 0; i < HC_VM_NAME_MAX; i++)
		r->name[i] = (char)s[OFF_NAME + i];
	memcpy(r->owner, s + OFF_OWNER, HC_OWNER_LEN);
	memcpy(r->key, s + OFF_KEY, VM_RECORD_KEY_LEN);
	memcpy(r->measurement, s + OFF_MEASURE, VM_RECORD_DIGEST_LEN);
	return 0;
}

static int parse(const uint8_t *s, uint32_t vm_id, struct vm_record *r,
		 char *err, size_t err_len)
{
	uint16_t flags;

	*r = (struct vm_record){ .vm_id = vm_id };
	if (all_zero(s, VM_RECORD_LEN))
		return 0; /* never written */
	if (!same(s + OFF_MAGIC, VM_RECORD_MAGIC, 4))
		return errmsg(err, err_len, "VM record %u: no \"%s\" magic", vm_id,
			      VM_RECORD_MAGIC);
	if (load_le16(s + OFF_FORMAT) != VM_RECORD_FORMAT)
		return errmsg(err, err_len, "VM record %u: format %u (this TCB reads %u)",
			      vm_id, load_le16(s + OFF_FORMAT), VM_RECORD_FORMAT);
	if (load_le32(s + OFF_VM_ID) != vm_id)
		return errmsg(err, err_len, "VM record %u: it names VM %u", vm_id,
			      load_le32(s + OFF_VM_ID));
	flags = load_le16(s + OFF_FLAGS);
	if ((flags & ~(FLAG_IN_USE | FLAG_STOPPED_ITSELF)) ||
	    (flags & (FLAG_IN_USE | FLAG_STOPPED_ITSELF)) == FLAG_STOPPED_ITSELF)
		return errmsg(err, err_len, "VM record %u: unknown flags 0x%x", vm_id,
			      flags);
	r->writes = load_le32(s + OFF_WRITES);
	r->stopped_itself = flags & FLAG_STOPPED_ITSELF;
	if (flags & FLAG_IN_USE)
		return parse_in_use(s, r, err, err_len);
	if (!all_zero(s + OFF_NAME, VM_RECORD_LEN - OFF_NAME))
		return errmsg(err, err_len, "VM record %u: free, but not empty", vm_id);
	return 0;
}

int vm_record_parse(const uint8_t slot[VM_RECORD_LEN], uint32_t vm_id,
		    struct vm_record *out, char *err, size_t err_len)
{
	struct vm_record r;
	int rc;

	if (err && err_len)
		err[0] = '\0';
	if (vm_id == 0 || vm_id > VM_MAX)
		return errmsg(err, err_len, "VM record: no VM has id %u", vm_id);
	rc = parse(slot, vm_id, &r, err, err_len);
	if (rc == 0)
		*out = r;
	crypto_wipe(&r, sizeof(r));
	return rc;
}

void vm_record_encode(const struct vm_record *r, uint8_t slot[VM_RECORD_LEN])
{
	memset(slot, 0, VM_RECORD_LEN);
	memcpy(slot + OFF_MAGIC, VM_RECORD_MAGIC, 4);
	store_le16(slot + OFF_FORMAT, VM_RECORD_FORMAT);
	store_le16(slot + OFF_FLAGS, !r->in_use ? 0 :
		   r->stopped_itself ? FLAG_IN_USE | FLAG_STOPPED_ITSELF : FLAG_IN_USE);
	store_le32(slot + OFF_WRITES, r->writes);
	store_le32(slot + OFF_VM_ID, r->vm_id);
	if (!r->in_use)
		return;
	for (size_t i = 0; i < HC_VM_NAME_MAX && r->name[i]; i++)
		slot[OFF_NAME + i] = (uint8_t)r->name[i];
	memcpy(slot + OFF_OWNER, r->owner, HC_OWNER_LEN);
	memcpy(slot + OFF_KEY, r->key, VM_RECORD_KEY_LEN);
	store_le64(slot + OFF_VERSION, r->version);
	store_le64(slot + OFF_MEM_SIZE, r->mem_size);
	memcpy(slot + OFF_MEASURE, r->measurement, VM_RECORD_DIGEST_LEN);
}

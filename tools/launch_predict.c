/*
 * Predict a launch's PCRs 0-9 from a logged one (tools/launch_predict.h).
 */
#include "tools/launch_predict.h"
#include "crypto/crypto.h"
#include "tcb/errmsg.h"
#include "tcb/fw_log.h"

#include <string.h>

#define GRUB_CMD_PCR  8u
#define GRUB_FILE_PCR 9u
/* GRUB's files: the kernel and its modules, one event each. */
#define LOADS_MAX     64u
#define PATH_MAX_LEN  256u
#define EVENTS_MAX    1024u

/* What the walk over the log found: GRUB's file loads from PCR 8, in
 * order, and the PCR 9 events' positions in the log. */
struct walk {
	char loads[LOADS_MAX][PATH_MAX_LEN];
	size_t n_loads;
	size_t pcr9[EVENTS_MAX]; /* log offsets of PCR 9's events */
	size_t n_pcr9;
};

static void extend(uint8_t pcr[48], const uint8_t digest[48])
{
	uint8_t both[96];

	memcpy(both, pcr, 48);
	memcpy(both + 48, digest, 48);
	crypto_sha384(both, sizeof(both), pcr);
}

static int sha384_index(const struct fw_log_info *info)
{
	for (size_t i = 0; i < info->alg_count; i++)
		if (info->algs[i] == FW_LOG_ALG_SHA384)
			return (int)i;
	return -1;
}

/* The text GRUB measured for a PCR 8 event, checked against its digest:
 * a NUL-terminated "PREFIX: text" whose digest is SHA-384(text). */
static const char *grub_text(const struct fw_log_event *ev, int bank, char *err,
			     size_t err_len)
{
	static const char *const prefixes[] = { "grub_cmd: ", "kernel_cmdline: ",
						"module_cmdline: " };
	const char *s = (const char *)ev->data;
	uint8_t digest[48];

	if (ev->data_len == 0 || ev->data[ev->data_len - 1] != '\0' ||
	    memchr(ev->data, '\0', ev->data_len - 1)) {
		errmsg(err, err_len, "a PCR 8 event is not a GRUB command string");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(s, prefixes[i], n) != 0)
			continue;
		crypto_sha384(s + n, ev->data_len - 1 - n, digest);
		if (memcmp(digest, ev->digests[bank], 48) != 0) {
			errmsg(err, err_len, "a PCR 8 event's text is not what GRUB "
			       "measured (its digest differs)");
			return NULL;
		}
		return s;
	}
	errmsg(err, err_len, "a PCR 8 event is not a GRUB command string");
	return NULL;
}

/* A multiboot2 or module2 command's path into w->loads; other commands
 * load no file. */
static int note_load(const char *s, struct walk *w, char *err, size_t err_len)
{
	const char *cmd = s + strlen("grub_cmd: "), *path, *end;

	if (strncmp(s, "grub_cmd: ", 10) != 0)
		return 0;
	if (strncmp(cmd, "multiboot2 ", 11) == 0)
		path = cmd + 11;
	else if (strncmp(cmd, "module2 ", 8) == 0)
		path = cmd + 8;
	else
		return 0;
	end = strchr(path, ' ');
	if (!end)
		end = path + strlen(path);
	if (path[0] != '/' || end == path || (size_t)(end - path) >= PATH_MAX_LEN)
		return errmsg(err, err_len, "GRUB command '%.60s' loads no file this "
			      "prediction understands", cmd);
	if (w->n_loads == LOADS_MAX)
		return errmsg(err, err_len, "GRUB loaded more than %u files", LOADS_MAX);
	memcpy(w->loads[w->n_loads], path, (size_t)(end - path));
	w->loads[w->n_loads][end - path] = '\0';
	w->n_loads++;
	return 0;
}

static int walk_log(const uint8_t *log, size_t len, const struct fw_log_info *info,
		    int bank, struct walk *w, char *err, size_t err_len)
{
	struct fw_log_event ev;
	size_t off = info->header_len, at;
	const char *s;
	int more;

	w->n_loads = w->n_pcr9 = 0;
	for (at = off; (more = fw_log_next(log, len, info, &off, &ev, err, err_len)) == 1;
	     at = off) {
		if (ev.type == FW_LOG_EV_NO_ACTION)
			continue;
		if (ev.pcr == GRUB_CMD_PCR) {
			s = grub_text(&ev, bank, err, err_len);
			if (!s || note_load(s, w, err, err_len) != 0)
				return -1;
		} else if (ev.pcr == GRUB_FILE_PCR) {
			if (w->n_pcr9 == EVENTS_MAX)
				return errmsg(err, err_len, "more than %u PCR 9 events",
					      EVENTS_MAX);
			w->pcr9[w->n_pcr9++] = at;
		}
	}
	return more == 0 ? 0 : -1;
}

/* The PCR 9 event at log offset at, re-read. */
static void event_at(const uint8_t *log, size_t len, const struct fw_log_info *info,
		     size_t at, struct fw_log_event *ev)
{
	(void)fw_log_next(log, len, info, &at, ev, NULL, 0); /* read before */
}

/* GRUB's files are PCR 9's last n_loads events, in command order, each
 * naming its path: the shape this prediction relies on. */
static int check_shape(const uint8_t *log, size_t len, const struct fw_log_info *info,
		       const struct walk *w, char *err, size_t err_len)
{
	struct fw_log_event ev;
	size_t first;

	if (w->n_loads == 0 || w->n_pcr9 < w->n_loads)
		return errmsg(err, err_len, "GRUB measured no kernel and modules in "
			      "PCR 9 for its multiboot2 and module2 commands");
	first = w->n_pcr9 - w->n_loads;
	for (size_t i = 0; i < w->n_loads; i++) {
		size_t n = strlen(w->loads[i]);

		event_at(log, len, info, w->pcr9[first + i], &ev);
		if (ev.data_len != n + 1 || memcmp(ev.data, w->loads[i], n + 1) != 0)
			return errmsg(err, err_len, "PCR 9's event for GRUB's load of "
				      "'%s' names another file: the log's labels "
				      "were changed, or GRUB measured something else",
				      w->loads[i]);
	}
	return 0;
}

/* The file of files[] that GRUB's load number i (of the walk) is, or NULL. */
static struct launch_file *new_content(const struct walk *w, size_t i,
				       struct launch_file *files, size_t n_files)
{
	for (size_t k = 0; k < n_files; k++)
		if (strcmp(files[k].grub_name, w->loads[i]) == 0)
			return &files[k];
	return NULL;
}

static void replay(const uint8_t *log, size_t len, const struct fw_log_info *info,
		   int bank, const struct walk *w, struct launch_file *files,
		   size_t n_files, uint8_t pcrs[LAUNCH_PCRS][48])
{
	size_t off = info->header_len, pcr9 = 0, first = w->n_pcr9 - w->n_loads;
	struct fw_log_event ev;

	memset(pcrs, 0, LAUNCH_PCRS * 48);
	pcrs[0][47] = info->startup_locality;
	while (fw_log_next(log, len, info, &off, &ev, NULL, 0) == 1) {
		struct launch_file *f = NULL;

		if (ev.pcr >= LAUNCH_PCRS || ev.type == FW_LOG_EV_NO_ACTION)
			continue;
		if (ev.pcr == GRUB_FILE_PCR && pcr9++ >= first)
			f = new_content(w, pcr9 - 1 - first, files, n_files);
		if (f)
			f->matched++;
		extend(pcrs[ev.pcr], f ? f->sha384 : ev.digests[bank]);
	}
}

int launch_predict(const uint8_t *log, size_t len, struct launch_file *files,
		   size_t n_files, uint8_t pcrs[LAUNCH_PCRS][48], char *err,
		   size_t err_len)
{
	static struct walk w;
	uint8_t out[LAUNCH_PCRS][48];
	struct fw_log_info info;
	char why[200];
	int bank;

	if (fw_log_parse(log, len, &info, why, sizeof(why)) != 0)
		return errmsg(err, err_len, "the firmware log is malformed: %s", why);
	bank = sha384_index(&info);
	if (bank < 0)
		return errmsg(err, err_len, "the firmware log has no SHA-384 bank");
	if (walk_log(log, len, &info, bank, &w, err, err_len) != 0 ||
	    check_shape(log, len, &info, &w, err, err_len) != 0)
		return -1;
	for (size_t i = 0; i < n_files; i++)
		files[i].matched = 0;
	replay(log, len, &info, bank, &w, files, n_files, out);
	for (size_t i = 0; i < n_files; i++)
		if (files[i].matched == 0)
			return errmsg(err, err_len, "GRUB loaded no file '%s' (by a "
				      "multiboot2 or module2 command) in the logged "
				      "launch: the new media's layout differs, so its "
				      "PCRs cannot be predicted from this log",
				      files[i].grub_name);
	memcpy(pcrs, out, sizeof(out));
	return 0;
}

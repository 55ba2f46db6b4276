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

/* Whether path is one of the dropped modules. */
static bool dropped(const char *path, size_t n, const char *const *drop, size_t n_drop)
{
	for (size_t i = 0; i < n_drop; i++)
		if (strlen(drop[i]) == n && memcmp(drop[i], path, n) == 0)
			return true;
	return false;
}

/* The module2 path of a GRUB command text ("module2 PATH ..."), or NULL. */
static const char *module_path(const char *cmd, size_t *n)
{
	const char *end;

	if (strncmp(cmd, "module2 ", 8) != 0)
		return NULL;
	end = strchr(cmd + 8, ' ');
	*n = end ? (size_t)(end - cmd - 8) : strlen(cmd + 8);
	return cmd + 8;
}

/* The menuentry's text without the lines that load a dropped module
 * ("\tmodule2 PATH ...\n"), hashed: GRUB measures the block as written, so
 * the new grub.cfg's block is the old one less those lines. Every dropped
 * module must have exactly one such line. */
static int menuentry_digest(const char *text, const char *const *drop, size_t n_drop,
			    uint8_t out[48], char *err, size_t err_len)
{
	static char kept[4096];
	size_t k = 0, found = 0, n, plen = 0;
	const char *line = text, *nl, *p, *path;

	while (*line) {
		nl = strchr(line, '\n');
		n = nl ? (size_t)(nl - line + 1) : strlen(line);
		for (p = line; *p == '\t' || *p == ' '; p++)
			;
		path = module_path(p, &plen);
		if (path && (size_t)(path - line) + plen <= n &&
		    dropped(path, plen, drop, n_drop)) {
			found++;
			line += n;
			continue;
		}
		if (k + n >= sizeof(kept))
			return errmsg(err, err_len, "GRUB's menuentry text is too long");
		memcpy(kept + k, line, n);
		k += n;
		line += n;
	}
	if (found != n_drop)
		return errmsg(err, err_len, "GRUB's menuentry has %zu lines loading the "
			      "dropped modules, not %zu", found, n_drop);
	crypto_sha384(kept, k, out);
	return 0;
}

/* A PCR 8 event's digest in the new launch, or NULL to leave it out:
 * a dropped module's command and its module_cmdline go, the menuentry's
 * text loses its line. *skip_cmdline carries "the next module_cmdline
 * belongs to a dropped module". */
static const uint8_t *command_digest(const struct fw_log_event *ev, int bank,
				     const char *const *drop, size_t n_drop,
				     bool *skip_cmdline, uint8_t buf[48], int *rc,
				     char *err, size_t err_len)
{
	const char *s = (const char *)ev->data, *path;
	size_t n = 0;

	if (*skip_cmdline) {
		*skip_cmdline = false;
		if (strncmp(s, "module_cmdline: ", 16) == 0)
			return NULL;
		*rc = errmsg(err, err_len, "no module_cmdline follows a dropped module's "
			     "command in PCR 8");
		return NULL;
	}
	if (strncmp(s, "grub_cmd: ", 10) != 0)
		return ev->digests[bank];
	path = module_path(s + 10, &n);
	if (path && dropped(path, n, drop, n_drop)) {
		*skip_cmdline = true;
		return NULL;
	}
	if (n_drop && strncmp(s + 10, "menuentry ", 10) == 0) {
		if (menuentry_digest(s + 10, drop, n_drop, buf, err, err_len) != 0)
			*rc = -1;
		return buf;
	}
	return ev->digests[bank];
}

static int replay(const uint8_t *log, size_t len, const struct fw_log_info *info,
		  int bank, const struct walk *w, struct launch_file *files,
		  size_t n_files, const char *const *drop, size_t n_drop,
		  uint8_t pcrs[LAUNCH_PCRS][48], char *err, size_t err_len)
{
	size_t off = info->header_len, pcr9 = 0, first = w->n_pcr9 - w->n_loads;
	bool skip_cmdline = false;
	struct fw_log_event ev;
	uint8_t buf[48];
	int rc = 0;

	memset(pcrs, 0, LAUNCH_PCRS * 48);
	pcrs[0][47] = info->startup_locality;
	while (rc == 0 && fw_log_next(log, len, info, &off, &ev, NULL, 0) == 1) {
		const uint8_t *digest = ev.digests[bank];
		struct launch_file *f = NULL;

		if (ev.pcr >= LAUNCH_PCRS || ev.type == FW_LOG_EV_NO_ACTION)
			continue;
		if (ev.pcr == GRUB_CMD_PCR)
			digest = command_digest(&ev, bank, drop, n_drop, &skip_cmdline, buf,
						&rc, err, err_len);
		if (ev.pcr == GRUB_FILE_PCR && pcr9++ >= first) {
			const char *path = w->loads[pcr9 - 1 - first];

			if (dropped(path, strlen(path), drop, n_drop))
				digest = NULL;
			f = new_content(w, pcr9 - 1 - first, files, n_files);
		}
		if (f)
			f->matched++;
		if (digest)
			extend(pcrs[ev.pcr], f ? f->sha384 : digest);
	}
	if (rc == 0 && skip_cmdline)
		rc = errmsg(err, err_len, "no module_cmdline follows a dropped module's "
			    "command in PCR 8");
	return rc;
}

/* Each dropped module is one GRUB loaded by module2, once, and gets no
 * new contents. */
static int check_drops(const struct walk *w, const struct launch_file *files,
		       size_t n_files, const char *const *drop, size_t n_drop,
		       char *err, size_t err_len)
{
	for (size_t i = 0; i < n_drop; i++) {
		size_t count = 0;

		for (size_t l = 1; l < w->n_loads; l++) /* 0 is the kernel */
			count += strcmp(w->loads[l], drop[i]) == 0;
		if (count != 1)
			return errmsg(err, err_len, "'%s' is not a module GRUB loaded "
				      "once in the logged launch", drop[i]);
		for (size_t f = 0; f < n_files; f++)
			if (strcmp(files[f].grub_name, drop[i]) == 0)
				return errmsg(err, err_len, "'%s' is both dropped and "
					      "given new contents", drop[i]);
	}
	return 0;
}

int launch_predict(const uint8_t *log, size_t len, struct launch_file *files,
		   size_t n_files, uint8_t pcrs[LAUNCH_PCRS][48], char *err,
		   size_t err_len)
{
	return launch_predict_dropping(log, len, files, n_files, NULL, 0, pcrs, err,
				       err_len);
}

int launch_predict_dropping(const uint8_t *log, size_t len, struct launch_file *files,
			    size_t n_files, const char *const *drop, size_t n_drop,
			    uint8_t pcrs[LAUNCH_PCRS][48], char *err, size_t err_len)
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
	if (check_drops(&w, files, n_files, drop, n_drop, err, err_len) != 0)
		return -1;
	for (size_t i = 0; i < n_files; i++)
		files[i].matched = 0;
	if (replay(log, len, &info, bank, &w, files, n_files, drop, n_drop, out, err,
		   err_len) != 0)
		return -1;
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

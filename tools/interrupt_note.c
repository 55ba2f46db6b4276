/*
 * The line a Ctrl-C leaves (tools/interrupt_note.h). Everything the
 * handler touches is set before the signal can need it and read with
 * async-signal-safe code only: fixed buffers, write(2), _exit(2).
 */
#include "tools/interrupt_note.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static struct {
	char prog[64];
	char command[16];
	char vm[32];         /* [a-z0-9_-] only: checked before it gets here */
	bool json;
	volatile sig_atomic_t phase;
	volatile uint64_t sent, total;
} note;

/* Append s to buf (len so far), always NUL-terminated. */
static size_t put(char *buf, size_t cap, size_t len, const char *s)
{
	while (*s && len + 1 < cap)
		buf[len++] = *s++;
	if (cap)
		buf[len < cap ? len : cap - 1] = '\0';
	return len;
}

static size_t put_u64(char *buf, size_t cap, size_t len, uint64_t v)
{
	char digits[21];
	size_t n = sizeof(digits) - 1;

	digits[n] = '\0';
	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put(buf, cap, len, digits + n);
}

static size_t put_vm(char *buf, size_t cap, size_t len)
{
	len = put(buf, cap, len, "VM '");
	len = put(buf, cap, len, note.vm);
	return put(buf, cap, len, "'");
}

/* An upload cut off: the TPGVM destroys the half-created VM when the
 * session closes (docs/tpgvm.md, "VM lifecycle"). */
static size_t reason_upload(char *buf, size_t cap, size_t len)
{
	len = put(buf, cap, len, "interrupted during the upload (");
	len = put_u64(buf, cap, len, note.sent >> 10);
	len = put(buf, cap, len, " of ");
	len = put_u64(buf, cap, len, note.total >> 10);
	len = put(buf, cap, len, " KiB sent): ");
	len = put_vm(buf, cap, len);
	len = put(buf, cap, len, " was created but not loaded; the platform "
		  "destroys it when it sees this connection close, so the create "
		  "can run again ('custos vm status ");
	len = put(buf, cap, len, note.vm);
	return put(buf, cap, len, "' shows whether it is gone)");
}

size_t interrupt_note_reason(char *buf, size_t cap)
{
	size_t len = 0;

	switch ((enum interrupt_phase)note.phase) {
	case IP_LOCAL:
		return put(buf, cap, len, "interrupted before any request was "
			   "sent: nothing changed on the platform");
	case IP_UPLOAD:
		return reason_upload(buf, cap, len);
	case IP_DONE:
		len = put(buf, cap, len, "interrupted after the platform answered: "
			  "the ");
		len = put(buf, cap, len, note.command);
		return put(buf, cap, len, " was done");
	case IP_REQUEST:
	default:
		break;
	}
	len = put(buf, cap, len, "interrupted after the ");
	len = put(buf, cap, len, note.command);
	if (!strcmp(note.command, "create")) {
		len = put(buf, cap, len, " request was sent: if the platform "
			  "created ");
		len = put_vm(buf, cap, len);
		return put(buf, cap, len, ", it destroys it again when it sees "
			   "this connection close");
	}
	len = put(buf, cap, len, " request was sent: the platform carries it "
		  "out all the same");
	if (!note.vm[0])
		return len;
	len = put(buf, cap, len, " ('custos vm status ");
	len = put(buf, cap, len, note.vm);
	return put(buf, cap, len, "' shows its state)");
}

static void say(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void on_interrupt(int sig)
{
	char reason[400], line[600];
	size_t len;

	(void)sig;
	interrupt_note_reason(reason, sizeof(reason));
	if (note.json) {
		len = put(line, sizeof(line), 0, "{\"result\": \"interrupted\", "
			  "\"exit_status\": 130, \"command\": \"");
		len = put(line, sizeof(line), len, note.command);
		len = put(line, sizeof(line), len, "\", \"name\": ");
		len = put(line, sizeof(line), len, note.vm[0] ? "\"" : "null");
		len = put(line, sizeof(line), len, note.vm);
		len = put(line, sizeof(line), len, note.vm[0] ? "\"" : "");
		len = put(line, sizeof(line), len, ", \"reason\": \"");
		len = put(line, sizeof(line), len, reason);
		len = put(line, sizeof(line), len, "\"}\n");
		say(STDOUT_FILENO, line, len);
	}
	len = put(line, sizeof(line), 0, "\n");
	len = put(line, sizeof(line), len, note.prog);
	len = put(line, sizeof(line), len, ": INTERRUPTED: ");
	len = put(line, sizeof(line), len, reason);
	len = put(line, sizeof(line), len, "\n");
	say(STDERR_FILENO, line, len);
	_exit(INTERRUPT_EXIT);
}

void interrupt_note_install(const char *prog, bool json)
{
	struct sigaction sa;

	put(note.prog, sizeof(note.prog), 0, prog);
	note.json = json;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void interrupt_note_command(const char *command, const char *vm_name)
{
	note.phase = IP_LOCAL;
	put(note.command, sizeof(note.command), 0, command ? command : "command");
	put(note.vm, sizeof(note.vm), 0, vm_name ? vm_name : "");
	note.sent = note.total = 0;
}

void interrupt_note_phase(enum interrupt_phase phase)
{
	note.phase = phase;
}

enum interrupt_phase interrupt_note_current(void)
{
	return (enum interrupt_phase)note.phase;
}

void interrupt_note_upload(uint64_t sent, uint64_t total)
{
	note.sent = sent;
	note.total = total;
}

/*
 * What `custos vm` was doing when Ctrl-C (SIGINT) or SIGTERM stopped it.
 * The CLI tells this module as it goes; the signal handler writes one
 * line on stderr that says what happened to the VM (and the JSON failure
 * object on stdout with --json), then exits 130 (128 + SIGINT), so a
 * tenant who interrupts an upload knows its VM's fate without asking.
 */
#ifndef CUSTOS_TOOLS_INTERRUPT_NOTE_H
#define CUSTOS_TOOLS_INTERRUPT_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INTERRUPT_EXIT 130

enum interrupt_phase {
	IP_LOCAL,    /* nothing sent yet: connecting, attesting, local files */
	IP_REQUEST,  /* the command's request is out, its answer not in */
	IP_UPLOAD,   /* create: the VM exists (created), its upload under way */
	IP_DONE,     /* the platform answered the command */
};

/* Catch SIGINT and SIGTERM for the command prog ("custos vm" or "custos
 * vm shell"); json: also print the failure object on stdout. */
void interrupt_note_install(const char *prog, bool json);
/* The command now running and its VM (NULL: none), phase IP_LOCAL. */
void interrupt_note_command(const char *command, const char *vm_name);
void interrupt_note_phase(enum interrupt_phase phase);
enum interrupt_phase interrupt_note_current(void);
/* Upload progress, bytes. */
void interrupt_note_upload(uint64_t sent, uint64_t total);

/* The reason the handler prints for the current state, NUL-terminated in
 * buf (async-signal-safe: no stdio, no allocation). Its length. */
size_t interrupt_note_reason(char *buf, size_t cap);

#endif

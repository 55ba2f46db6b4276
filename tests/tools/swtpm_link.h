/*
 * What the swtpm recording tools (tests/tools/tpm2_*_record.c) share: one
 * TCP connection to swtpm's command port, one command and one response
 * buffer, and the recording of an exchange as C arrays on stdout for a
 * unit test's header. Define SWTPM_TOOL (the tool's name, for messages)
 * before including it.
 */
#ifndef CUSTOS_TESTS_SWTPM_LINK_H
#define CUSTOS_TESTS_SWTPM_LINK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcb/tpm2_session.h"

static int sock;
static uint8_t cmd[TPM2_BUFFER_MAX], rsp[TPM2_BUFFER_MAX];
static char err[200];

static void die(const char *what)
{
	fprintf(stderr, SWTPM_TOOL ": %s%s%s\n", what, err[0] ? ": " : "", err);
	exit(1);
}

static void read_all(uint8_t *p, size_t n)
{
	while (n) {
		ssize_t got = read(sock, p, n);

		if (got <= 0)
			die("reading from swtpm");
		p += got;
		n -= (size_t)got;
	}
}

/* One command to the TPM; the response's length. */
static size_t transmit(size_t len)
{
	size_t n;

	if (len == 0)
		die("a builder failed");
	if (write(sock, cmd, len) != (ssize_t)len)
		die("writing to swtpm");
	read_all(rsp, TPM2_HEADER_LEN);
	n = (size_t)rsp[2] << 24 | (size_t)rsp[3] << 16 | (size_t)rsp[4] << 8 | rsp[5];
	if (n < TPM2_HEADER_LEN || n > sizeof(rsp))
		die("response size");
	read_all(rsp + TPM2_HEADER_LEN, n - TPM2_HEADER_LEN);
	return n;
}

static void emit(const char *name, const uint8_t *p, size_t n)
{
	printf("static const uint8_t %s[%zu] = {", name, n);
	for (size_t i = 0; i < n; i++)
		printf("%s0x%02x,", i % 12 ? " " : "\n\t", p[i]);
	printf("\n};\n");
}

/* Sends the command in cmd and records both ways. While the TPM answers
 * TPM_RC_RETRY (libtpms does to the first signing command after start-up;
 * hv/tpm.c sends it again too), the command goes again and only the
 * exchange that counted is recorded. */
static size_t record(const char *name, size_t len)
{
	char label[64];
	size_t n = 0;

	for (int i = 0; i < 5; i++) {
		n = transmit(len);
		if (n != TPM2_HEADER_LEN || rsp[6] || rsp[7] || rsp[8] != 0x09 ||
		    rsp[9] != 0x22)
			break;
		fprintf(stderr, SWTPM_TOOL ": %s: TPM_RC_RETRY, sent again\n", name);
	}
	snprintf(label, sizeof(label), "%s_cmd", name);
	emit(label, cmd, len);
	snprintf(label, sizeof(label), "%s_rsp", name);
	emit(label, rsp, n);
	return n;
}

static void fixed(uint8_t *p, uint8_t v)
{
	memset(p, v, TPM2_SESSION_HASH_LEN);
}

static void connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("connecting to swtpm");
}

#endif

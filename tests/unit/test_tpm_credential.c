/*
 * Attestation-key enrollment, the CA's side (tools/tpm_credential.c,
 * compiled in: host-only code).
 *
 * The vectors are real: swtpm_setup --create-ek-cert made a TPM whose EK
 * certificate chains to swtpm's local CA; tpm2_createprimary made the
 * Custos AK in it; the credential blob below, made from the injected seed
 * and credential by tpm_make_credential() (with the EK modulus from the
 * certificate), was given to that TPM in tpm2-tools' credential file
 * (0xBADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET) and
 * tpm2_activatecredential returned the credential. The blob does not
 * depend on the EK (only the OAEP-encrypted seed does), so it is compared
 * byte for byte; the OAEP part, randomised, is checked by decrypting it
 * with an RSA key made here. KDFa's vectors come from Python's hmac and
 * hashlib, the blob was recomputed there too (AES-CFB from cryptography).
 *
 * The test certificates other than swtpm's were made with Python's
 * cryptography package, valid from 2020 to 9999 (one expired in 2021).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tpm_credential.c"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"

/* swtpm's local CA root (/var/lib/swtpm-localca/swtpm-localca-rootca-cert.pem) */
static const char swtpm_root_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIEEDCCAnigAwIBAgIUbMsy6B6jaGGpcMaNLKuu3X5iqW0wDQYJKoZIhvcNAQEL\n"
	"BQAwHzEdMBsGA1UEAxMUc3d0cG0tbG9jYWxjYS1yb290Y2EwIBcNMjYxMjAzMTgw\n"
	"NzI5WhgPOTk5OTEyMzEyMzU5NTlaMB8xHTAbBgNVBAMTFHN3dHBtLWxvY2FsY2Et\n"
	"cm9vdGNhMIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAuBcOWRD/p4De\n"
	"tjp6lqzjejQsUVsEi1Oy7yYZsgQIXJBuePuH6hvxOaIyzzJAs/TZRTaCscKCVLpN\n"
	"cM9AB0/MhI9WrtrtuW/QJMpHbD8DG6CiTyHMeeS3WQjx7WRIanSj6DeIKiM8JxOU\n"
	"MngXc5BkRUddFVAWv7H6/w6Lll6PhVRj+wUorSfGxDO0b4Bf0c6zLrIirSLJb3hW\n"
	"gzzSDUtpsqoYwpZeHehsYQaQ08B7Vrizxi/jwSu7blOIO7o4BAZ/gEQQDbTzu7+c\n"
	"y+zIsZ17Zu88P2AdZh7e3EkqKutlyVJTt6vME8kkB6yq7D38TbDg2g+hjUDwg9bc\n"
	"aRmBNyQ8g4FhNDlUTDuxVCu8VrWUxsiGB6karC8oEO0jwRZEmMLrFnS7FfuHh13o\n"
	"+V+lMj1PwngAb6XCWse1/XZnYA4/7ZMbVSCGBi6GDVJzNQDykwSNBfEPrlfi0P+F\n"
	"T0KqS+/Srq8skmWpX0GyKcMLYEg1Yu4oqH/qu0JcLMq7ZVR8jlezAgMBAAGjQjBA\n"
	"MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMB0GA1UdDgQWBBSYN6fv\n"
	"+901Vexrnb6QioIdPh0dSTANBgkqhkiG9w0BAQsFAAOCAYEARlastF9JEahZ/9le\n"
	"7cmwTCusCMjywJ07ZJDRm3r/eC4btbv4f06XWzXf3XgO1XypJnXlzWIXzzGWbdwz\n"
	"2FJx1K/fHtDlZr2EGaT28ndTpO6X2jKuTs0goHP2xd1Qm+hrPxufjAuszF0jxot9\n"
	"FtTosAnsohnAaSGbDY2X6Fk38D6fyWfTtfV4oH+ij4ZAMRu0ugcXts7OQL1w7s/y\n"
	"4PgLIJBmBXco7+p8KKJiCCWmw/rY+gPLUcPRI5VjT8xBH75S4US8vdsPdxC7zcyg\n"
	"4RRKo+nLon1fiqXMSRYECvNpcIpBSqD0WDN3ckUJnlh9hSnQtPn71wPgp4dwfPRy\n"
	"Id3DAWEokOZg06cSaJm4C4UZF0iKVy/BiZdnMAf8TAqa3yHLPlyQ6roGOt3UCau5\n"
	"DIi1UI8S4wnydDOupMkcuwZyRSYYvnVXORAmN58PJclAMrpbkntPu4I4cYbYk2f6\n"
	"gyamwH75FEKG6ZC52Ah4huaN36I/sqZkHqM+Q438JE+yV3zO\n"
	"-----END CERTIFICATE-----\n"
	;

/* its intermediate, which signs EK certificates (issuercert.pem) */
static const char swtpm_issuer_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIEKjCCApKgAwIBAgIUWTtC0fG5UJMWLwUgNbbcRjwQk0EwDQYJKoZIhvcNAQEL\n"
	"BQAwHzEdMBsGA1UEAxMUc3d0cG0tbG9jYWxjYS1yb290Y2EwIBcNMjYxMjAzMTgw\n"
	"NzI5WhgPOTk5OTEyMzEyMzU5NTlaMBgxFjAUBgNVBAMTDXN3dHBtLWxvY2FsY2Ew\n"
	"ggGiMA0GCSqGSIb3DQEBAQUAA4IBjwAwggGKAoIBgQD1JO/VJmfwj2O/xzSo0Fuk\n"
	"uyy2WWMO6PRUWw1YhKYnoTjhS/w+tmgk0pZHjSd1TLrFA3z9dtzIHySLMuWPBa5B\n"
	"sL1seUHB7pKu5gDomZYSJZaG81YmzVnmbZ0F/beC6ncImSHGF/r/DtvdSREIv4ho\n"
	"cNnFcK/2wfNsKCbJHz1609nzAIFUu1aH24vpLocLdI68Uef+WXZhgqd28Zk/e1he\n"
	"aqKWwjeUG3YT3yY33ghjWKhyp/MrWMFBptCX1i/GbGEMRlYV7welrmOZB25+Hv+Y\n"
	"dk/LfRTXCqKVqfxbvgcL01OWrSZzQ3n+5gh/MPm5ysvcGMtE1LR1N2xyydIql7ft\n"
	"Isb6HOweRX9KNYmvgMzhxuz9xb64wubCtcYUqBWuTyJp2Tx4Ecb9P1knbCvf8aF3\n"
	"7V1FCCfgds9RFZiSRIXXKuJTcDeTxfeowKJW+cAfPBoptasIxLbIaWj631Y3+9DF\n"
	"+qvXqqeiREVNR1E3eBcEzG4izpASxij7f1k5uWwcX+sCAwEAAaNjMGEwDwYDVR0T\n"
	"AQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAgQwHQYDVR0OBBYEFGOZ7UhetpqqHnRb\n"
	"6WRBn8Eo6SqlMB8GA1UdIwQYMBaAFJg3p+/73TVV7GudvpCKgh0+HR1JMA0GCSqG\n"
	"SIb3DQEBCwUAA4IBgQC2P0nKuAsycl6yUrVB8RvshMZCAft0q+VcqS643Bbxx4/1\n"
	"Lk9Hl/WGv/tyn03DDULZLf5JEHRe4t/MfALG6oTi8MOp/lCItQrt4dqn+ua3iPoM\n"
	"Heh/LreKKMdXlDGbQW/fZ75cTAM5xoJWbnopAXlE18IfxfVfgubzwAsJvkQ6nxJm\n"
	"wAJdL9juvkAr1q4YhLmuU0oDS4xNqFp0v8pnmtaNuP3Caf2IQraO8WDzxUjM9vdH\n"
	"B1iPUx/dGN4MDwylBSf99o50COxXcnQQCIZvrKEYOt51AcAzQggsqWzZAJ2oUmwX\n"
	"kDigJMYJjC4B/Tz+V+6eJ3XW6pcUdJ/NCvoEdmurzyVijHTQcnQGpR+uLyzsp8rF\n"
	"f2rt+YHVunvt5XwAbrL85ULhNAD9eC1JtWYXpi0Akaw1U+EemioA6Tfr45eXwTsh\n"
	"0w2QkRCs9iqjpBT6IzQ/tkh3OuWJlAwsEqfDf8X73VJo7/nAbIvAhEb2rvBs6tsk\n"
	"umSPqyCVErdhIaf7apY=\n"
	"-----END CERTIFICATE-----\n"
	;

/* the RSA EK certificate swtpm_setup --create-ek-cert wrote (tpm2_nvread 0x01c00002) */
static const char swtpm_ek_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIID9DCCAlygAwIBAgIBBjANBgkqhkiG9w0BAQsFADAYMRYwFAYDVQQDEw1zd3Rw\n"
	"bS1sb2NhbGNhMCAXDTI2MTIwMzE4MDkzMFoYDzk5OTkxMjMxMjM1OTU5WjASMRAw\n"
	"DgYDVQQDEwd1bmtub3duMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
	"t7SgrMXS47OsfUGj338B/xZGRwSV5SXBJl4tL0xF4dvY1ff1J08uEcaVVvc+X2/I\n"
	"P0N33VF7yim7sttmZ1Pl0bm5TjqmoYOM/x7bQLuhogbymC5vr/Vw58f31tzMMkRz\n"
	"ad6bA2FDJ7VZY6XuCesYbedFcf9H6LxVr8Sh96ODY9gvO6k2qI6ZGsFnKULeTd0E\n"
	"kN0ttrAAd1Jr4aLr+MUosj0+uxuztq9PgGSVtTfR9fkWodaVAOHf+xHVtn/BTiLH\n"
	"namqNMp2ZokfM8Yi49S8eFECPlUzR+XkNvH6MKkWqBb9NlixFx2soBAvIDy8OhOK\n"
	"prIzC7V+nNxpSHIKshBCmQIDAQABo4HMMIHJMBAGA1UdJQQJMAcGBWeBBQgBMFIG\n"
	"A1UdEQEB/wRIMEakRDBCMRYwFAYFZ4EFAgEMC2lkOjAwMDAxMDE0MRAwDgYFZ4EF\n"
	"AgIMBXN3dHBtMRYwFAYFZ4EFAgMMC2lkOjIwMTkxMDIzMAwGA1UdEwEB/wQCMAAw\n"
	"IgYDVR0JBBswGTAXBgVngQUCEDEOMAwMAzIuMAIBAAICAKQwHwYDVR0jBBgwFoAU\n"
	"Y5ntSF62mqoedFvpZEGfwSjpKqUwDgYDVR0PAQH/BAQDAgUgMA0GCSqGSIb3DQEB\n"
	"CwUAA4IBgQC6DfnxdhH7BenHemH1wdbUtZzzul47ZF51C33ex4OHCmDNzVCeMrj0\n"
	"eqiZ+NJvftIKFAhwf7htLYC0M92N9WdYtN0nGrjhwJEWU2Li5p2+5wSz4/eG7v9p\n"
	"jfg7z3kkJdiPBKqQ7lxxSXrNtJF+zknLvzHnfhlHnkhv3O7KxUjMTRjHQlJqYpC3\n"
	"r+A9T9DVob1mDEOnXDYnJ6YqsYhtSC8yrsLxdR+WbjNP5LcYl9YeF1tbQxLIEbz/\n"
	"1vKIINe/JfYrSCYnftFnM3S/VJD7Ko2oZ61FJj4Kw6qOAIVCsgC3iBNt5ao0oVCI\n"
	"ANMpH6d34NolS8dRw25Gauk5Vk8TUSA90RmgILGSSgDYoDBsUOKQaQubGTYOsehh\n"
	"E1yCrp+IWBh7NSVUe8Vc/ttrmK0l1aongRyiafePWs5i7y1egdELJ//ZiOHdYjDG\n"
	"uSL/cKDFbctfgo6nE3B7jwbAUpoh9NmIGznb8val0W1xY0J8lyNXMgAyEGFw8HJG\n"
	"LW4Xlaid6aE=\n"
	"-----END CERTIFICATE-----\n"
	;

/* a test EK CA root (RSA 2048, SHA-256), not swtpm's */
static const char test_root_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIC3DCCAcSgAwIBAgIBATANBgkqhkiG9w0BAQsFADAeMRwwGgYDVQQDDBNjdXN0\n"
	"b3MtdGVzdC1lay1yb290MCAXDTIwMDEwMTAwMDAwMFoYDzk5OTkxMjMxMjM1OTU5\n"
	"WjAeMRwwGgYDVQQDDBNjdXN0b3MtdGVzdC1lay1yb290MIIBIjANBgkqhkiG9w0B\n"
	"AQEFAAOCAQ8AMIIBCgKCAQEAvuEX64seysVVQfMF5tHys/m2imuzMw1e8zJmWaAX\n"
	"p5uIYYHjUpg+4uvSiEA8NcgWZn7bRXNcqunQXx47+reMXSp2VhEb6/mkXkz8w4jh\n"
	"/9IDE+6QxNmZgWWxZI3uKb9n/yawt4TRoGT++XR2IK5efSKNyTz593lpWSSqYj0W\n"
	"dgKbUIsGxcCKnnvBi2l4tk2dZbJLsF2WPccE1OmqAtwpXcrzqLTFJmlpFSKRvfbl\n"
	"C4e8+W63kfbpsDQPMGH6XmPS7ThK46DZTzkMpOgtApvXo+Ur+BJK3WFIGF8rWOVu\n"
	"lfqDLzwxkCb7mLBfbxOc7uPmOsSMYAW8jp6Gdhc3bOlNfwIDAQABoyMwITAPBgNV\n"
	"HRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjANBgkqhkiG9w0BAQsFAAOCAQEA\n"
	"CS+IRmHUYjOH8fwkk9TiQur8iix7ccx6eisPl38XexjIxfY9Nh08PnNG9lh7o2wV\n"
	"dyswBT67mxL/lp0Z/VdoHwvSqQffvq5AXb8TZbA/SLjYijwUWwRlaLQbkwh5yPr/\n"
	"rUzCGIx43AVVQFHitLXAW9L40VKuNZZSWXpAHhPDwFoN+Fn26vAB0DQamvXiCC37\n"
	"GOX6mW71FI0HekvauahhrGtaqC+41+VhTMpexJDss9D13P326g9HyFUeglYypEBz\n"
	"uWmUWiM0hd4BiXddBo7Yd6Bxdf+VUtyKr3Nd2oMIq7F9z182JaOx8ryrk7KjmZ+A\n"
	"lbk1zDTiozqCkAiKmuRdSg==\n"
	"-----END CERTIFICATE-----\n"
	;

/* an EK certificate in swtpm's shape (critical TCG SAN, keyUsage keyEncipherment) from the test root: RSA 2048, 65537 */
static const char ek_other_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDIjCCAgqgAwIBAgIBAjANBgkqhkiG9w0BAQsFADAeMRwwGgYDVQQDDBNjdXN0\n"
	"b3MtdGVzdC1lay1yb290MCAXDTIwMDEwMTAwMDAwMFoYDzk5OTkxMjMxMjM1OTU5\n"
	"WjAAMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2GihnN+U30A8/T5t\n"
	"Sqq0NgtDN9iNOHRBMpcKQ1fMVUjgVRfqlPtyRYM7KHqiG9zQ1whErszrCuwvCgKb\n"
	"iSvJloa+WQhCiJhueiHW78JQFuhnNJ7pwXJbDbdfrMBe8DGfl4cZ55i1AVzjBY0t\n"
	"3N3UYrszOlRDZgE6HTLc9HOF7SgoZFs7uobageZT9aOW51MHxYdNWl9nqC4GA/nm\n"
	"QIa18XlINaAkBMD+Aska2K6uw/5kNR1fABh6TtpqnwmXfR68XDmD4N6tAo1Pa6e2\n"
	"21M068zSWWOwVwpRBn4D+pYZgtKPKf56tj8t0hw8J6LwodgIFBqgVll5AgLgogJr\n"
	"Xv7rpQIDAQABo4GGMIGDMFEGA1UdEQEB/wRHMEWkQzBBMRYwFAYFZ4EFAgEMC2lk\n"
	"OjAwMDAxMDE0MQ8wDQYFZ4EFAgIMBHRlc3QxFjAUBgVngQUCAwwLaWQ6MjAxOTEw\n"
	"MjMwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCBSAwEAYDVR0lBAkwBwYFZ4EF\n"
	"CAEwDQYJKoZIhvcNAQELBQADggEBABa7IekCIXv1e5ph2Fb58J9i8/2AqSe1CMEb\n"
	"xoY7FTRbsYtu0GOstJtkpRfXPzENkL8JQpm6yqgzsEVFml79QZTLn2EKC15HKidD\n"
	"TwEUuuc0g+PAlXUzNtgnUMHadWG306MkkBMxVzAXPszjb7QqvcwkDo31wYPUmHY0\n"
	"ZzBn4bfxBqFVmtQKfSP9EQZCSp2+h/3YGDQ3KxiBwlG1IFm+NhHzljRmWvFTPYhl\n"
	"Rd6UZQ4qSdpJ8WoZN0z1eIKg/Hrx/5obE7eWChRlTZfX/5xzRmbIQ67oj7RfPXv5\n"
	"+tNVLsEteuvSKxQRS4z+538JsPGF8/BLQVgYE4N1idHZeJh+Ohw=\n"
	"-----END CERTIFICATE-----\n"
	;

/* the same, for an RSA 3072 key */
static const char ek_rsa3072_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDojCCAoqgAwIBAgIBAzANBgkqhkiG9w0BAQsFADAeMRwwGgYDVQQDDBNjdXN0\n"
	"b3MtdGVzdC1lay1yb290MCAXDTIwMDEwMTAwMDAwMFoYDzk5OTkxMjMxMjM1OTU5\n"
	"WjAAMIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAyVshO/kVLM9bYiCo\n"
	"le4WBDhkhcdKpeoR8mAOIAo6JLcQ/LlAc8iy20w2IW/5miSua+zZ4RVl3vHl0SSD\n"
	"hdpTqo8ZBL+KpzdhAuSFZGQz0zrSYwf61XewC6t0Sdxbw+jLbvoV8cS37P7QEdbb\n"
	"O3oB2AoO8qUfbP++D7Gep2EzpgPCH+5yayn54Gll/02XS+s5Sv7fA5q9zqS9QGri\n"
	"Ds0m6yYgdnQ1crAWVXn2S/8toMfI0QVQUX9rFf6SOqLgbkqBqOv+cFdacLvg71jX\n"
	"1RdBl42CbMDRYvNnRu+2feP9VYTX2XpaaoIvsc+elJAIh8A0DuDjoZmhfhvMfKCB\n"
	"C2cBKayM0bPJKWwC/JseCJzsONBAqbPMtMPY0V5rpbFB6wjQzQ1i+EDgEIjs42Ep\n"
	"u5EKmLOfbVrHkQ3ii+UD4ETBz8HdRX2iE4MAUkaBUQIV7rTtQwSec1Epv6ZwoA2p\n"
	"UyDr01Q5MfWElEx3vcwvBpL3WBKhzWbdo5rH+/X4n4EjEOUrAgMBAAGjgYYwgYMw\n"
	"UQYDVR0RAQH/BEcwRaRDMEExFjAUBgVngQUCAQwLaWQ6MDAwMDEwMTQxDzANBgVn\n"
	"gQUCAgwEdGVzdDEWMBQGBWeBBQIDDAtpZDoyMDE5MTAyMzAMBgNVHRMBAf8EAjAA\n"
	"MA4GA1UdDwEB/wQEAwIFIDAQBgNVHSUECTAHBgVngQUIATANBgkqhkiG9w0BAQsF\n"
	"AAOCAQEAcxuoRBA78Gdq4Pkpa4+GxLRk9AYRjE14xjZv1u9VDK8jnLfBVsxchz2x\n"
	"i+uGsx/TaFC6RICbZcu5e2NcMrAD++u2GKwGb9SQk8yRVKpuCfZQOHRTqqKyEk8s\n"
	"kAzE/4066waOKGu2C4Wu6tdV/YqqrVv+x9q3xTOKhjoZYD6vgeHlWC7FpNNoGQrU\n"
	"iB97iMg2/F+0FeyuTof3dWP0WbStzXdSJwp8pmqsDgd9W3Xm2K+c1hRNq6FOGLBT\n"
	"4gsb2g4b5GZkf5Nl42fx51WltiV8jgnf8DmoBykqiGDXMVXp7mHENj5DxQiIaCzc\n"
	"NpGtdtRaxOa5cj1KrumtWhUm7nktUw==\n"
	"-----END CERTIFICATE-----\n"
	;

/* the same, RSA 2048 with exponent 3 */
static const char ek_rsa_e3_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDIDCCAgigAwIBAgIBBDANBgkqhkiG9w0BAQsFADAeMRwwGgYDVQQDDBNjdXN0\n"
	"b3MtdGVzdC1lay1yb290MCAXDTIwMDEwMTAwMDAwMFoYDzk5OTkxMjMxMjM1OTU5\n"
	"WjAAMIIBIDANBgkqhkiG9w0BAQEFAAOCAQ0AMIIBCAKCAQEA+O3cbkf1UdF8ckGZ\n"
	"tzBfwnVR3dywt5tprzJ6ahnrCsGZ9M+pd9yMx6DF3uCVseoWpV6bosvUfhGoeQGg\n"
	"XOSQ9FQzZmnqI4/DziqXSe3Xot568cKhb2N5v71zCYR4HXkOh1nJgtgxvY02TWhi\n"
	"VyIn/DNqXp6vZ3GaFX7n7FgHoMB39Ty7aaDoP5hewE63laqwlSO6RUHeRGkytVcm\n"
	"QGVipRG3ublOkAL60iCwLR/p63NX3fQHwq3PrQpa/96uuyK456u/kS2IgtUdxUHl\n"
	"oB6KuGcGpGLUOdjgBc4SL77UWW7BVcc+haHnpGRrzzb/wQ9wgvtv4OjjH2huP1Mu\n"
	"tScbgwIBA6OBhjCBgzBRBgNVHREBAf8ERzBFpEMwQTEWMBQGBWeBBQIBDAtpZDow\n"
	"MDAwMTAxNDEPMA0GBWeBBQICDAR0ZXN0MRYwFAYFZ4EFAgMMC2lkOjIwMTkxMDIz\n"
	"MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgUgMBAGA1UdJQQJMAcGBWeBBQgB\n"
	"MA0GCSqGSIb3DQEBCwUAA4IBAQBWTTwhhFye6KkyDhzY60t8DG+6/cuTnU84BL68\n"
	"R0Zl2Op5nG54t08W1oCI1plzVlVBSCkwtYzEsVG/TM4AGvClroULSlo7gIxlHtKp\n"
	"2winZI6tQs3NTC70H0pArNpRqXSCqjg6VEI2tjfFsJQ4zzmMhSloJwtUjuhjyvdr\n"
	"NOsrQuDHSCZzaI16zAcNgVg9wK7hH7cwS8ac0gz1//vJnUZbERArgVyqAah9kqIE\n"
	"FCymhdqPHPPJc5oWdEwKq1ps7yg/dCFRqFFkS1wPykob6hymDqgemsF7OUVb15IG\n"
	"a6otAi+cUfCaySR6RV6LnuxGkJv8PO279ARq237b4U5QHj0g\n"
	"-----END CERTIFICATE-----\n"
	;

/* the same, for an ECC P-256 key */
static const char ek_p256_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICVzCCAT+gAwIBAgIBBTANBgkqhkiG9w0BAQsFADAeMRwwGgYDVQQDDBNjdXN0\n"
	"b3MtdGVzdC1lay1yb290MCAXDTIwMDEwMTAwMDAwMFoYDzk5OTkxMjMxMjM1OTU5\n"
	"WjAAMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbpoRmYSjGjjlNfyyNUy2tv1t\n"
	"gwBcwF8NCkqdt3m2w7f9FawrxwEauUvrLjHE3+OzaV9w1vGSRtb8cMNvkUD1IKOB\n"
	"hjCBgzBRBgNVHREBAf8ERzBFpEMwQTEWMBQGBWeBBQIBDAtpZDowMDAwMTAxNDEP\n"
	"MA0GBWeBBQICDAR0ZXN0MRYwFAYFZ4EFAgMMC2lkOjIwMTkxMDIzMAwGA1UdEwEB\n"
	"/wQCMAAwDgYDVR0PAQH/BAQDAgUgMBAGA1UdJQQJMAcGBWeBBQgBMA0GCSqGSIb3\n"
	"DQEBCwUAA4IBAQCi6i2VIR3Mj+eOPmkbCmrKGdHUMlSVZTfOgllvu4N6o2oZZBAU\n"
	"Z7I2RM8gMN8dEkpl5sPsVXsNJwIK2Kd214mWFZhCmlcYawqMtJk+wPwcIG3A2gUh\n"
	"tm9rHiVSSc4V0J1oNQUm7PZ2idk1I7x42rCnP7NhlSOKUx9L7hZuWsBxu5QFNFYl\n"
	"p9UYmBC0ifSgwc2m3IvUcB8cpkTHrbITXvBqrEzI1ahrzX2GuMLZd4gswKGCIbEv\n"
	"YSEaQIhgY1t//WmNjg8OeAWDOthPiOc+ENRjccgkDha1mTK6Y7tkf4/kH1tqYYf+\n"
	"LFDHYpthG+GZ4QpgpQfVf3kZILPw0tUdpfwI\n"
	"-----END CERTIFICATE-----\n"
	;

/* the same, RSA 2048, expired on 2021-01-01 */
static const char ek_expired_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDIDCCAgigAwIBAgIBBjANBgkqhkiG9w0BAQsFADAeMRwwGgYDVQQDDBNjdXN0\n"
	"b3MtdGVzdC1lay1yb290MB4XDTIwMDEwMTAwMDAwMFoXDTIxMDEwMTAwMDAwMFow\n"
	"ADCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAJ3mXa+5eZ2uJsG1Ht3G\n"
	"LPInO44m/AD0tbxVTuIL52+3D49NjWvRIcIx6nrbPXp8FFv322OoXA1wkZiFIPz9\n"
	"8QW64ehl4rqZ7/XBxo7TbmCj31whAoWWybtvNvU4onO9lyYcVlCKqq/zjxeMM9u0\n"
	"w0Lp4NHf/6kxHpDvcJiqkKjnfidg+6m5xI7OZiFtYWe4MCJfEnWG9b2wtf83l5Yv\n"
	"cAwwFmu3Yc4Z66tUVC1W1sy9HmeDxf1snSTa2WhQPntAE7tltsRl6T3njBTccE1P\n"
	"KNWeQVkLlJ3lvioMUOjkL8+uDUxQrvRsQ+o9G8Hqci4MnGe8zqotZlOVFUgITKyu\n"
	"3I0CAwEAAaOBhjCBgzBRBgNVHREBAf8ERzBFpEMwQTEWMBQGBWeBBQIBDAtpZDow\n"
	"MDAwMTAxNDEPMA0GBWeBBQICDAR0ZXN0MRYwFAYFZ4EFAgMMC2lkOjIwMTkxMDIz\n"
	"MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgUgMBAGA1UdJQQJMAcGBWeBBQgB\n"
	"MA0GCSqGSIb3DQEBCwUAA4IBAQC48f2ejfWyQbns4dxDXevkeNQNvRjQd2AG/KA3\n"
	"WppWOF9ZsD1ENnAvin0ukG2vR/JyqyJ30jy5Lv8enjhUmq0e1JjqBvkEntYm4xmB\n"
	"c2f95Lqaz3/5/R2A9h2O220mujncr5tOI5CxqJl1yM9LyylCXHGM6n9GvW3u6+mG\n"
	"6lQ9dNfq20NX/rPlgXE7huYnw1w6GTTbjWGHW+kmVb1KzJLowr88ZvecuLHhh9Jy\n"
	"9Rnq/Xqi0K5MQ1rYS3XvMv7UW3dSn9dlTsmxxCyvrfJGRW787qcZLGU5OvlpIclq\n"
	"CyOMxWkv86oAHOtcW03tEWJNPsLbYdHWFMWl39FaZOGm8WK6\n"
	"-----END CERTIFICATE-----\n"
	;

/* The AK TPMT_PUBLIC tpm2_createprimary -C e -g sha384 -G ecc384:ecdsa-sha384:null made (tpm2_readpublic -o, less its size) */
static const uint8_t swtpm_ak[120] = {
	0x00, 0x23, 0x00, 0x0c, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10,
	0x00, 0x18, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x10, 0x00, 0x30, 0x1c, 0xe9,
	0xce, 0x0f, 0x71, 0x3c, 0x52, 0x8b, 0xcb, 0x6a, 0x46, 0xfb, 0x2f, 0xcf,
	0xac, 0xe0, 0xb3, 0xcc, 0xdb, 0xef, 0x3d, 0xff, 0xbc, 0x42, 0x39, 0x54,
	0x78, 0x5d, 0x17, 0x48, 0x38, 0x03, 0x34, 0xc2, 0x97, 0xde, 0x71, 0xfb,
	0x1a, 0xc6, 0xa2, 0x32, 0x4d, 0x85, 0x8f, 0x8e, 0x7c, 0x18, 0x00, 0x30,
	0x63, 0x2e, 0x34, 0xbf, 0xde, 0x5d, 0xc2, 0xfe, 0x69, 0xc5, 0xe5, 0x53,
	0x97, 0x78, 0xca, 0x3f, 0xfa, 0x7b, 0xd2, 0x3b, 0xea, 0xf8, 0x1c, 0x8e,
	0x0e, 0x5c, 0xbc, 0x8f, 0xff, 0x2a, 0x06, 0x05, 0xb0, 0x41, 0xda, 0xa5,
	0xf0, 0xf8, 0x1f, 0xff, 0x75, 0x0b, 0x12, 0xc3, 0xea, 0xd4, 0x32, 0x44,
};

/* its Name, as tpm2_readpublic -n wrote it */
static const uint8_t swtpm_ak_name[50] = {
	0x00, 0x0c, 0x18, 0x3e, 0x67, 0x60, 0x55, 0x36, 0x6b, 0x1f, 0xbb, 0x9e,
	0xc3, 0x1d, 0x69, 0xf6, 0x59, 0x52, 0x95, 0xe0, 0x05, 0xa4, 0x6a, 0xf7,
	0xa5, 0x4f, 0xf1, 0xb1, 0x9e, 0x7b, 0x91, 0x9d, 0x68, 0x7a, 0x99, 0x0c,
	0xc8, 0xae, 0xbe, 0xda, 0x28, 0x88, 0xd7, 0xa3, 0xd4, 0x96, 0x81, 0xcf,
	0x2b, 0x73,
};

/* the EK certificate's modulus (= tpm2_createek's EK) */
static const uint8_t swtpm_ek_modulus[256] = {
	0xb7, 0xb4, 0xa0, 0xac, 0xc5, 0xd2, 0xe3, 0xb3, 0xac, 0x7d, 0x41, 0xa3,
	0xdf, 0x7f, 0x01, 0xff, 0x16, 0x46, 0x47, 0x04, 0x95, 0xe5, 0x25, 0xc1,
	0x26, 0x5e, 0x2d, 0x2f, 0x4c, 0x45, 0xe1, 0xdb, 0xd8, 0xd5, 0xf7, 0xf5,
	0x27, 0x4f, 0x2e, 0x11, 0xc6, 0x95, 0x56, 0xf7, 0x3e, 0x5f, 0x6f, 0xc8,
	0x3f, 0x43, 0x77, 0xdd, 0x51, 0x7b, 0xca, 0x29, 0xbb, 0xb2, 0xdb, 0x66,
	0x67, 0x53, 0xe5, 0xd1, 0xb9, 0xb9, 0x4e, 0x3a, 0xa6, 0xa1, 0x83, 0x8c,
	0xff, 0x1e, 0xdb, 0x40, 0xbb, 0xa1, 0xa2, 0x06, 0xf2, 0x98, 0x2e, 0x6f,
	0xaf, 0xf5, 0x70, 0xe7, 0xc7, 0xf7, 0xd6, 0xdc, 0xcc, 0x32, 0x44, 0x73,
	0x69, 0xde, 0x9b, 0x03, 0x61, 0x43, 0x27, 0xb5, 0x59, 0x63, 0xa5, 0xee,
	0x09, 0xeb, 0x18, 0x6d, 0xe7, 0x45, 0x71, 0xff, 0x47, 0xe8, 0xbc, 0x55,
	0xaf, 0xc4, 0xa1, 0xf7, 0xa3, 0x83, 0x63, 0xd8, 0x2f, 0x3b, 0xa9, 0x36,
	0xa8, 0x8e, 0x99, 0x1a, 0xc1, 0x67, 0x29, 0x42, 0xde, 0x4d, 0xdd, 0x04,
	0x90, 0xdd, 0x2d, 0xb6, 0xb0, 0x00, 0x77, 0x52, 0x6b, 0xe1, 0xa2, 0xeb,
	0xf8, 0xc5, 0x28, 0xb2, 0x3d, 0x3e, 0xbb, 0x1b, 0xb3, 0xb6, 0xaf, 0x4f,
	0x80, 0x64, 0x95, 0xb5, 0x37, 0xd1, 0xf5, 0xf9, 0x16, 0xa1, 0xd6, 0x95,
	0x00, 0xe1, 0xdf, 0xfb, 0x11, 0xd5, 0xb6, 0x7f, 0xc1, 0x4e, 0x22, 0xc7,
	0x9d, 0xa9, 0xaa, 0x34, 0xca, 0x76, 0x66, 0x89, 0x1f, 0x33, 0xc6, 0x22,
	0xe3, 0xd4, 0xbc, 0x78, 0x51, 0x02, 0x3e, 0x55, 0x33, 0x47, 0xe5, 0xe4,
	0x36, 0xf1, 0xfa, 0x30, 0xa9, 0x16, 0xa8, 0x16, 0xfd, 0x36, 0x58, 0xb1,
	0x17, 0x1d, 0xac, 0xa0, 0x10, 0x2f, 0x20, 0x3c, 0xbc, 0x3a, 0x13, 0x8a,
	0xa6, 0xb2, 0x33, 0x0b, 0xb5, 0x7e, 0x9c, 0xdc, 0x69, 0x48, 0x72, 0x0a,
	0xb2, 0x10, 0x42, 0x99,
};

/* the injected seed */
static const uint8_t cred_seed[32] = {
	0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b,
	0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
	0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
};

/* the injected credential */
static const uint8_t cred_credential[32] = {
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb,
	0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
	0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
};

/* the credential blob: tpm2_activatecredential on that swtpm returned cred_credential from it */
static const uint8_t cred_id_object[68] = {
	0x00, 0x20, 0xed, 0x1e, 0xdc, 0xd9, 0x33, 0x0b, 0x8e, 0x82, 0x73, 0x20,
	0x51, 0x15, 0x08, 0x11, 0xa0, 0x95, 0x99, 0x25, 0xb2, 0xdd, 0x0c, 0xf5,
	0xd8, 0x14, 0x5b, 0x00, 0x16, 0x74, 0x59, 0xf3, 0xa8, 0xbe, 0x48, 0xf4,
	0x82, 0xa5, 0x93, 0x99, 0x9d, 0x62, 0xd6, 0xf7, 0xf7, 0x6d, 0x6f, 0x0b,
	0x64, 0x49, 0xb5, 0x5d, 0xb4, 0xee, 0x0d, 0xfc, 0x1f, 0x65, 0x1f, 0xe5,
	0x0d, 0x0d, 0xa2, 0xe6, 0xd8, 0xd8, 0x7d, 0x6c,
};

static const char *exe_path;

/* ---- helpers ------------------------------------------------------------------ */

/* One PEM certificate as DER (malloc'd). */
static uint8_t *der_of(const char *pem, size_t *len)
{
	mbedtls_x509_crt c;
	uint8_t *der;

	mbedtls_x509_crt_init(&c);
	assert_int_equal(mbedtls_x509_crt_parse(&c, (const uint8_t *)pem,
						strlen(pem) + 1), 0);
	der = malloc(c.raw.len);
	assert_non_null(der);
	memcpy(der, c.raw.p, c.raw.len);
	*len = c.raw.len;
	mbedtls_x509_crt_free(&c);
	return der;
}

/* tpm_ek_cert_check() of an EK given as PEM against CAs given as PEM. */
static int check_ek_pem(const char *ek_pem, const char *const *ca_pem, size_t n,
			uint8_t modulus[TPM_EK_MODULUS_LEN], char *err, size_t err_len)
{
	uint8_t *ek, *ca[4] = { NULL };
	size_t ek_len, ca_len[4] = { 0 };
	int rc;

	assert_true(n <= 4);
	ek = der_of(ek_pem, &ek_len);
	for (size_t i = 0; i < n; i++)
		ca[i] = der_of(ca_pem[i], &ca_len[i]);
	rc = tpm_ek_cert_check(ek, ek_len, (const uint8_t *const *)ca, ca_len, n,
			       modulus, err, err_len);
	free(ek);
	for (size_t i = 0; i < n; i++)
		free(ca[i]);
	return rc;
}

static void expect_ek_refused(const char *ek_pem, const char *const *ca_pem,
			      size_t n, const char *why)
{
	uint8_t modulus[TPM_EK_MODULUS_LEN];
	char err[256] = "";

	assert_int_equal(check_ek_pem(ek_pem, ca_pem, n, modulus, err,
				      sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("refused with \"%s\", expected \"%s\"", err, why);
}

/* A generator for OAEP whose output does not matter (the seed is the
 * secret; OAEP's randomness only hides it). */
static int counter_rng(void *ctx, unsigned char *buf, size_t len)
{
	unsigned *n = ctx;

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(*n)++;
	return 0;
}

/* ---- KDFa --------------------------------------------------------------------- */

/* Python: hmac.new(key, pack('>I', i) + label + b'\0' + u + v +
 * pack('>I', bits), sha256), blocks concatenated and cut to bits/8. */
static void test_kdfa_vectors(void **state)
{
	static const uint8_t storage[16] = {
		0x18, 0x05, 0x05, 0x52, 0x1b, 0x5e, 0x61, 0xf8,
		0x0b, 0x9c, 0x36, 0xa7, 0x2d, 0x3e, 0x39, 0x58,
	};
	static const uint8_t integrity[32] = {
		0x6c, 0xd6, 0x17, 0x4f, 0xce, 0xbf, 0xe9, 0xbf, 0x57, 0xed, 0xa6,
		0xb3, 0xba, 0xcf, 0x7f, 0x2d, 0x0e, 0x5a, 0xf0, 0x35, 0x63, 0x23,
		0xf6, 0xba, 0x9d, 0xd8, 0x3b, 0x72, 0x08, 0xf0, 0xf1, 0xb4,
	};
	/* Three blocks, the last one cut: key 01..14, "CUSTOS-TEST",
	 * u "abc", v "defgh", 520 bits. */
	static const uint8_t longer[65] = {
		0x80, 0x0b, 0xc3, 0x79, 0xef, 0xc7, 0xad, 0x39, 0xed, 0x0f, 0x70,
		0xff, 0xd7, 0x4b, 0xfc, 0x80, 0xc3, 0x0a, 0x2f, 0xee, 0xe4, 0x3f,
		0xff, 0x69, 0xa1, 0x7f, 0x72, 0xe1, 0xde, 0x37, 0xbb, 0x4b, 0x9a,
		0x6d, 0xc4, 0x74, 0x2f, 0xe7, 0xbb, 0x15, 0x5d, 0x18, 0xb6, 0x81,
		0x12, 0xce, 0xea, 0x94, 0xb2, 0x4e, 0x0a, 0x50, 0x11, 0x10, 0xb7,
		0x37, 0x91, 0x1b, 0x9f, 0x1c, 0x0d, 0x22, 0xef, 0x6e, 0x10,
	};
	uint8_t key[20], out[80];

	(void)state;
	assert_int_equal(tpm_kdfa_sha256(cred_seed, 32, "STORAGE", swtpm_ak_name,
					 50, NULL, 0, 128, out), 0);
	assert_memory_equal(out, storage, sizeof(storage));
	assert_int_equal(tpm_kdfa_sha256(cred_seed, 32, "INTEGRITY", NULL, 0,
					 NULL, 0, 256, out), 0);
	assert_memory_equal(out, integrity, sizeof(integrity));
	for (int i = 0; i < 20; i++)
		key[i] = (uint8_t)(i + 1);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(tpm_kdfa_sha256(key, sizeof(key), "CUSTOS-TEST",
					 (const uint8_t *)"abc", 3,
					 (const uint8_t *)"defgh", 5, 520, out), 0);
	assert_memory_equal(out, longer, sizeof(longer));
	assert_int_equal(out[65], 0xee); /* nothing past bits / 8 */
	/* Not a whole number of bytes, or nothing at all: refused. */
	assert_int_equal(tpm_kdfa_sha256(key, sizeof(key), "X", NULL, 0, NULL, 0,
					 0, out), -1);
	assert_int_equal(tpm_kdfa_sha256(key, sizeof(key), "X", NULL, 0, NULL, 0,
					 12, out), -1);
}

/* ---- The attestation key -------------------------------------------------------- */

static void test_ak_swtpm(void **state)
{
	uint8_t point[97], name[50];
	char err[200];

	(void)state;
	assert_int_equal(tpm_ak_check(swtpm_ak, sizeof(swtpm_ak), point, name,
				      err, sizeof(err)), 0);
	assert_memory_equal(name, swtpm_ak_name, 50);
	assert_int_equal(point[0], 0x04);
	assert_memory_equal(point + 1, swtpm_ak + 22, 48);
	assert_memory_equal(point + 49, swtpm_ak + 72, 48);
}

static void test_ak_refusals(void **state)
{
	/* One byte of each field of the template, and where it says so. */
	static const struct {
		unsigned off;
		const char *why;
	} bad[] = {
		{ 1, "type is not ECC" }, { 3, "nameAlg" }, { 4, "attributes" },
		{ 7, "attributes" }, { 9, "authPolicy" }, { 11, "symmetric" },
		{ 13, "scheme" }, { 15, "scheme" }, { 17, "curve" },
		{ 19, "kdf" }, { 21, "x coordinate" }, { 71, "y coordinate" },
		{ 30, "not on the P-384 curve" }, { 100, "not on the P-384 curve" },
	};
	uint8_t ak[130];
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(ak, swtpm_ak, sizeof(swtpm_ak));
		ak[bad[i].off] ^= 0x01;
		err[0] = '\0';
		assert_int_equal(tpm_ak_check(ak, sizeof(swtpm_ak), NULL, NULL, err,
					      sizeof(err)), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("byte %u: \"%s\"", bad[i].off, err);
	}
	/* The signing-only AK without "restricted" (0x00040072): a key that
	 * could sign anything, not only TPM-made structures. */
	memcpy(ak, swtpm_ak, sizeof(swtpm_ak));
	ak[5] = 0x04;
	assert_int_equal(tpm_ak_check(ak, sizeof(swtpm_ak), NULL, NULL, err,
				      sizeof(err)), -1);
	/* Not exactly 120 bytes: with tpm2_readpublic's size in front, one
	 * byte short, one byte more. */
	ak[0] = 0x00;
	ak[1] = 0x78;
	memcpy(ak + 2, swtpm_ak, sizeof(swtpm_ak));
	assert_int_equal(tpm_ak_check(ak, sizeof(swtpm_ak) + 2, NULL, NULL, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "122 bytes"));
	memcpy(ak, swtpm_ak, sizeof(swtpm_ak));
	assert_int_equal(tpm_ak_check(ak, sizeof(swtpm_ak) - 1, NULL, NULL, err,
				      sizeof(err)), -1);
	ak[sizeof(swtpm_ak)] = 0;
	assert_int_equal(tpm_ak_check(ak, sizeof(swtpm_ak) + 1, NULL, NULL, err,
				      sizeof(err)), -1);
}

/* ---- Reports ---------------------------------------------------------------------- */

static uint8_t *read_report(size_t *len)
{
	static const char name[] = "report-ovmf-swtpm.rpt";
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__ + 1) : 0;
	uint8_t *buf = malloc(REPORT_MAX_SIZE);
	char path[4096];
	FILE *f;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%.*sdata/%s", dir, __FILE__, name);
	f = fopen(path, "rb");
	if (!f) {
		slash = exe_path ? strrchr(exe_path, '/') : NULL;
		dir = slash ? (int)(slash - exe_path + 1) : 0;
		snprintf(path, sizeof(path), "%.*s../../tests/unit/data/%s", dir,
			 exe_path ? exe_path : "", name);
		f = fopen(path, "rb");
	}
	if (!f)
		fail_msg("cannot find %s", name);
	*len = fread(buf, 1, REPORT_MAX_SIZE, f);
	fclose(f);
	return buf;
}

/* The AK of a real report (the hypervisor's under OVMF + swtpm) is the
 * Custos AK: the TCB's template and this check agree. Without its TPM
 * evidence the same report has no AK to enroll. */
static void test_report_ak(void **state)
{
	const uint8_t *ak;
	size_t len, ak_len, quoted, tpm;
	uint8_t *rpt = read_report(&len), name[50];
	char err[200];

	(void)state;
	assert_int_equal(tpm_report_ak(rpt, len, &ak, &ak_len, err, sizeof(err)), 0);
	assert_int_equal(tpm_ak_check(ak, ak_len, NULL, name, err, sizeof(err)), 0);
	/* Strip the evidence: the header's length 0, the bytes gone (the
	 * structure stays valid; the signature is not checked here). */
	tpm = load_le32(rpt + RPT_OFF_TPM_LEN);
	assert_true(tpm > 0);
	quoted = len - RPT_SIG_LEN - tpm;
	memmove(rpt + quoted, rpt + quoted + tpm, RPT_SIG_LEN);
	store_le32(rpt + RPT_OFF_TPM_LEN, 0);
	assert_int_equal(tpm_report_ak(rpt, len - tpm, &ak, &ak_len, err,
				       sizeof(err)), -1);
	assert_non_null(strstr(err, "carries no TPM evidence"));
	/* Not a report at all. */
	assert_int_equal(tpm_report_ak(swtpm_ak, sizeof(swtpm_ak), &ak, &ak_len,
				       err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a well-formed platform report"));
	free(rpt);
}

/* ---- EK certificates ------------------------------------------------------------ */

static void test_ek_swtpm(void **state)
{
	const char *both[2] = { swtpm_root_pem, swtpm_issuer_pem };
	const char *reversed[2] = { swtpm_issuer_pem, swtpm_root_pem };
	uint8_t modulus[TPM_EK_MODULUS_LEN];
	char err[256];

	(void)state;
	if (check_ek_pem(swtpm_ek_pem, both, 2, modulus, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_memory_equal(modulus, swtpm_ek_modulus, sizeof(modulus));
	/* The order of --ek-ca does not matter: the self-signed one anchors. */
	memset(modulus, 0, sizeof(modulus));
	assert_int_equal(check_ek_pem(swtpm_ek_pem, reversed, 2, modulus, err,
				      sizeof(err)), 0);
	assert_memory_equal(modulus, swtpm_ek_modulus, sizeof(modulus));
	/* The root without the intermediate that signed the EK certificate;
	 * the intermediate without a root. */
	expect_ek_refused(swtpm_ek_pem, both, 1, "does not chain");
	expect_ek_refused(swtpm_ek_pem, reversed, 1, "self-signed root");
	/* A CA certificate is no EK certificate. */
	expect_ek_refused(swtpm_issuer_pem, both, 2, "is a CA certificate");
}

static void test_ek_refusals(void **state)
{
	const char *swtpm[2] = { swtpm_root_pem, swtpm_issuer_pem };
	const char *test[1] = { test_root_pem };
	uint8_t modulus[TPM_EK_MODULUS_LEN];
	char err[256];

	(void)state;
	/* The test CA's EK certificate verifies against the test CA (the
	 * control: the certificates below are refused for what they are)... */
	if (check_ek_pem(ek_other_ca_pem, test, 1, modulus, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* ...but not against swtpm's, nor swtpm's against the test CA. */
	expect_ek_refused(ek_other_ca_pem, swtpm, 2, "does not chain");
	expect_ek_refused(swtpm_ek_pem, test, 1, "does not chain");
	/* Keys other than RSA 2048 / 65537, from a CA that is trusted. */
	expect_ek_refused(ek_rsa3072_pem, test, 1, "RSA 3072, not RSA 2048");
	expect_ek_refused(ek_rsa_e3_pem, test, 1, "exponent is not 65537");
	expect_ek_refused(ek_p256_pem, test, 1, "not RSA 2048");
	/* Validity dates are checked (the CA's host has a clock). */
	expect_ek_refused(ek_expired_pem, test, 1, "expired");
}

static void test_ek_malformed(void **state)
{
	uint8_t modulus[TPM_EK_MODULUS_LEN], *ek, *ca, junk[8] = { 0x30, 0x03 };
	size_t ek_len, ca_len;
	const uint8_t *cas[1];
	char err[256];

	(void)state;
	ek = der_of(swtpm_ek_pem, &ek_len);
	ca = der_of(test_root_pem, &ca_len);
	cas[0] = ca;
	/* Trailing bytes after the certificate, a truncated one, junk. */
	ek = realloc(ek, ek_len + 1);
	assert_non_null(ek);
	ek[ek_len] = 0;
	assert_int_equal(tpm_ek_cert_check(ek, ek_len + 1, cas, &ca_len, 1,
					   modulus, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not one DER"));
	assert_int_equal(tpm_ek_cert_check(ek, ek_len - 1, cas, &ca_len, 1,
					   modulus, err, sizeof(err)), -1);
	assert_int_equal(tpm_ek_cert_check(junk, sizeof(junk), cas, &ca_len, 1,
					   modulus, err, sizeof(err)), -1);
	/* A CA that does not parse is named. */
	cas[0] = junk;
	ca_len = sizeof(junk);
	assert_int_equal(tpm_ek_cert_check(ek, ek_len, cas, &ca_len, 1, modulus,
					   err, sizeof(err)), -1);
	assert_non_null(strstr(err, "EK CA certificate 1"));
	free(ek);
	free(ca);
}

/* ---- MakeCredential ------------------------------------------------------------- */

/* The blob swtpm activated, byte for byte. */
static void test_make_credential_swtpm(void **state)
{
	uint8_t id[TPM_ID_OBJECT_LEN], secret[TPM_ENC_SECRET_LEN];
	unsigned n = 0;
	char err[200];

	(void)state;
	assert_int_equal(tpm_make_credential(swtpm_ek_modulus, swtpm_ak_name,
					     cred_credential, cred_seed,
					     counter_rng, &n, id, secret, err,
					     sizeof(err)), 0);
	assert_memory_equal(id, cred_id_object, sizeof(id));
	/* Another AK's Name: another key and another HMAC, so the TPM's
	 * ActivateCredential for the real AK would refuse the blob. */
	{
		uint8_t name[50], other[TPM_ID_OBJECT_LEN];

		memcpy(name, swtpm_ak_name, 50);
		name[49] ^= 1;
		assert_int_equal(tpm_make_credential(swtpm_ek_modulus, name,
						     cred_credential, cred_seed,
						     counter_rng, &n, other, secret,
						     err, sizeof(err)), 0);
		assert_memory_equal(other, id, 2);
		assert_memory_not_equal(other + 2, id + 2, 32);
		assert_memory_not_equal(other + 34, id + 34, 34);
	}
}

/* The OAEP part: decrypted with the private key of an RSA 2048 key made
 * here, it is the seed; with the label without its NUL it is not. The
 * blob is the same whatever the EK. */
static void test_make_credential_oaep(void **state)
{
	static const char label[] = "IDENTITY";
	uint8_t id[TPM_ID_OBJECT_LEN], secret[TPM_ENC_SECRET_LEN], modulus[256];
	uint8_t seed[64];
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_rsa_context rsa;
	size_t olen = 0;
	char err[200];

	(void)state;
	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
	assert_int_equal(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
					       NULL, 0), 0);
	assert_int_equal(mbedtls_rsa_gen_key(&rsa, mbedtls_ctr_drbg_random, &drbg,
					     2048, 65537), 0);
	assert_int_equal(mbedtls_rsa_export_raw(&rsa, modulus, sizeof(modulus),
						NULL, 0, NULL, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(tpm_make_credential(modulus, swtpm_ak_name,
					     cred_credential, cred_seed,
					     mbedtls_ctr_drbg_random, &drbg, id,
					     secret, err, sizeof(err)), 0);
	assert_memory_equal(id, cred_id_object, sizeof(id));
	assert_int_equal(mbedtls_rsa_rsaes_oaep_decrypt(&rsa, mbedtls_ctr_drbg_random,
							&drbg, MBEDTLS_RSA_PRIVATE,
							(const uint8_t *)label,
							sizeof(label), &olen, secret,
							seed, sizeof(seed)), 0);
	assert_int_equal(olen, 32);
	assert_memory_equal(seed, cred_seed, 32);
	assert_int_not_equal(mbedtls_rsa_rsaes_oaep_decrypt(&rsa, mbedtls_ctr_drbg_random,
							    &drbg, MBEDTLS_RSA_PRIVATE,
							    (const uint8_t *)label,
							    sizeof(label) - 1, &olen,
							    secret, seed, sizeof(seed)), 0);
	mbedtls_rsa_free(&rsa);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
}

/* A modulus that is no RSA key (even): OAEP refuses it, and so do we. */
static void test_make_credential_bad_ek(void **state)
{
	uint8_t modulus[256], id[TPM_ID_OBJECT_LEN], secret[TPM_ENC_SECRET_LEN];
	unsigned n = 0;
	char err[200];

	(void)state;
	memset(modulus, 0, sizeof(modulus));
	assert_int_equal(tpm_make_credential(modulus, swtpm_ak_name,
					     cred_credential, cred_seed,
					     counter_rng, &n, id, secret, err,
					     sizeof(err)), -1);
	assert_non_null(strstr(err, "RSA-OAEP"));
}

/* ---- The enrollment module -------------------------------------------------------- */

static const uint8_t nonce[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static uint8_t *build_module(const uint8_t *cert, size_t cert_len, size_t *len)
{
	uint8_t secret[TPM_ENC_SECRET_LEN], *mod;
	char err[200];

	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0xa0 ^ i);
	*len = TPM_ENROLL_LEN(cert_len);
	mod = malloc(*len);
	assert_non_null(mod);
	assert_int_equal(tpm_enroll_build(swtpm_ak_name, cred_id_object, secret,
					  cred_credential, nonce, cert, cert_len,
					  mod, err, sizeof(err)), 0);
	return mod;
}

static void test_module_round_trip(void **state)
{
	size_t cert_len, len;
	uint8_t *cert = der_of(test_root_pem, &cert_len), *mod, *back;
	uint8_t key[32], plain[2048];
	struct tpm_enroll e;
	char err[200];
	size_t off;

	(void)state;
	mod = build_module(cert, cert_len, &len);
	back = malloc(cert_len);
	assert_non_null(back);
	/* The layout, field by field. */
	assert_int_equal(len, 8 + 4 + 52 + 70 + 258 + 12 + 2 + cert_len + 16);
	assert_memory_equal(mod, "CUSTENR1", 8);
	assert_int_equal(load_le32(mod + 8), 1);
	assert_int_equal(load_le16(mod + 12), 50);
	assert_memory_equal(mod + 14, swtpm_ak_name, 50);
	assert_int_equal(load_le16(mod + 64), 68);
	assert_memory_equal(mod + 66, cred_id_object, 68);
	assert_int_equal(load_le16(mod + 134), 256);
	assert_int_equal(mod[136], 0xa0);
	assert_memory_equal(mod + 392, nonce, 12);
	assert_int_equal(load_le16(mod + 404), cert_len);
	assert_int_equal(TPM_ENROLL_AAD_LEN, 392);
	/* Parsed and opened with the credential, it is the certificate. */
	assert_int_equal(tpm_enroll_parse(mod, len, &e, err, sizeof(err)), 0);
	assert_ptr_equal(e.ak_name, mod + 14);
	assert_ptr_equal(e.id_object, mod + 66);
	assert_ptr_equal(e.encrypted_secret, mod + 136);
	assert_ptr_equal(e.nonce, mod + 392);
	assert_ptr_equal(e.cert_ct, mod + 406);
	assert_int_equal(e.cert_len, cert_len);
	assert_ptr_equal(e.tag, mod + 406 + cert_len);
	assert_int_equal(tpm_enroll_open(mod, &e, cred_credential, back, err,
					 sizeof(err)), 0);
	assert_memory_equal(back, cert, cert_len);
	assert_memory_not_equal(e.cert_ct, cert, cert_len);
	/* The TCB's reader (tcb/tpm_enroll.c) agrees. */
	{
		struct tpm_enrollment te;

		memset(back, 0, cert_len);
		assert_int_equal(tpm_enrollment_parse(mod, len, &te, err,
						      sizeof(err)), 0);
		assert_ptr_equal(te.ak_name, mod + 14);
		assert_int_equal(te.blob_len, 68);
		assert_int_equal(te.secret_len, 256);
		assert_int_equal(te.aad_len, 392);
		assert_int_equal(te.cert_len, cert_len);
		assert_int_equal(tpm_enrollment_open_cert(mod, &te, cred_credential,
							  32, back), 0);
		assert_memory_equal(back, cert, cert_len);
	}
	/* The key and AAD as specified, derived here independently. */
	assert_true(cert_len <= sizeof(plain));
	assert_int_equal(crypto_hkdf_sha384(NULL, 0, cred_credential, 32,
					    "CUSTOS-AK-CERT-1", 16, key, 32), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_decrypt(key, mod + 392, mod, 392,
						  mod + 406, cert_len, plain,
						  mod + 406 + cert_len), CRYPTO_OK);
	assert_memory_equal(plain, cert, cert_len);
	/* Another credential does not open it. */
	{
		uint8_t wrong[32];

		memcpy(wrong, cred_credential, 32);
		wrong[0] ^= 1;
		assert_int_equal(tpm_enroll_open(mod, &e, wrong, back, err,
						 sizeof(err)), -1);
		assert_non_null(strstr(err, "wrong credential"));
	}
	/* Every byte is covered: by the parser (magic, version, lengths) or
	 * the tag (AAD, nonce, ciphertext, tag). */
	for (off = 0; off < len; off++) {
		mod[off] ^= 0x40;
		if (tpm_enroll_parse(mod, len, &e, err, sizeof(err)) == 0 &&
		    tpm_enroll_open(mod, &e, cred_credential, back, err,
				    sizeof(err)) == 0)
			fail_msg("a change at byte %zu went unnoticed", off);
		mod[off] ^= 0x40;
	}
	/* Truncated, or with a byte more. */
	assert_int_equal(tpm_enroll_parse(mod, len - 1, &e, err, sizeof(err)), -1);
	mod = realloc(mod, len + 1);
	assert_non_null(mod);
	mod[len] = 0;
	assert_int_equal(tpm_enroll_parse(mod, len + 1, &e, err, sizeof(err)), -1);
	for (off = 0; off < len; off++)
		assert_int_equal(tpm_enroll_parse(mod, off, &e, err, sizeof(err)), -1);
	/* No certificate, or one too big for the module. */
	assert_int_equal(tpm_enroll_build(swtpm_ak_name, cred_id_object, mod,
					  cred_credential, nonce, cert, 0, mod,
					  err, sizeof(err)), -1);
	assert_int_equal(tpm_enroll_build(swtpm_ak_name, cred_id_object, mod,
					  cred_credential, nonce, cert,
					  TPM_ENROLL_CERT_MAX + 1, mod, err,
					  sizeof(err)), -1);
	free(mod);
	free(back);
	free(cert);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdfa_vectors),
		cmocka_unit_test(test_ak_swtpm),
		cmocka_unit_test(test_ak_refusals),
		cmocka_unit_test(test_report_ak),
		cmocka_unit_test(test_ek_swtpm),
		cmocka_unit_test(test_ek_refusals),
		cmocka_unit_test(test_ek_malformed),
		cmocka_unit_test(test_make_credential_swtpm),
		cmocka_unit_test(test_make_credential_oaep),
		cmocka_unit_test(test_make_credential_bad_ek),
		cmocka_unit_test(test_module_round_trip),
	};

	(void)argc;
	exe_path = argv[0];
	return cmocka_run_group_tests(tests, NULL, NULL);
}

# crypto/ build rules (placeholder until the crypto layer lands). Defines:
#   CRYPTO_KERNEL_OBJS   objects linked into custos.elf (wrapper + freestanding mbedTLS)
#   CRYPTO_HOST_LIB      host archive of the wrapper (for tools and unit tests)
#   CRYPTO_HOST_LDLIBS   system libraries it needs (-lmbedtls ...)
CRYPTO_KERNEL_OBJS :=
CRYPTO_HOST_LIB :=
CRYPTO_HOST_LDLIBS :=

# Linux guest assets (included by the top-level Makefile; guests/linux/README.md).
# Built from Debian packages fetched with `apt-get download` (nothing is
# installed system-wide), never committed:
#   make linux-initramfs  build/linux/initramfs.cpio.gz (busybox-static)
#   make linux-tiny       build/linux/bzImage-tiny (linux-source-6.1,
#                         tinyconfig + guests/linux/tiny.config)
#   make linux-assets     both: what `make test` and `make demo` need
#   make linux-debian     build/linux/vmlinuz-debian (Debian's cloud kernel;
#                         not part of linux-assets)
# `make all` builds none of them. Fetched sources stay in build/linux/ until
# removed (rm -rf build/linux/src to take a newer Debian linux-source-6.1).

LINUX_DIR := $(BUILD)/linux
LINUX_INITRAMFS := $(LINUX_DIR)/initramfs.cpio.gz
LINUX_TINY := $(LINUX_DIR)/bzImage-tiny
LINUX_DEBIAN := $(LINUX_DIR)/vmlinuz-debian
LINUX_BUSYBOX := $(LINUX_DIR)/busybox/busybox
LINUX_SRC := $(LINUX_DIR)/src/linux-source-6.1
# Written when the source is extracted (the tree's own files keep the
# tarball's mtimes): the tiny kernel's key with tiny.config.
LINUX_SRC_STAMP := $(LINUX_DIR)/src/.debian-version

.PHONY: linux-assets linux-initramfs linux-tiny linux-debian
linux-assets: linux-initramfs linux-tiny
linux-initramfs: $(LINUX_INITRAMFS)
linux-tiny: $(LINUX_TINY)
linux-debian: $(LINUX_DEBIAN)

# The fetched packages: each directory appears complete or not at all, and
# stays (its .debian-version says which package version it came from).
$(LINUX_BUSYBOX):
	@guests/linux/fetch.sh busybox $(LINUX_DIR)/busybox

$(LINUX_SRC_STAMP):
	@guests/linux/fetch.sh linux-source $(LINUX_DIR)/src

$(LINUX_INITRAMFS): guests/linux/mkinitramfs.py guests/linux/init.sh $(LINUX_BUSYBOX)
	@$(PYTHON) guests/linux/mkinitramfs.py --busybox $(LINUX_BUSYBOX) \
		--init guests/linux/init.sh --out $@

# Rebuilt when the fragment, the script or the source (a new extraction)
# changes; otherwise make never enters the kernel tree. The kernel's make
# shares this make's jobs (a `+` line) when make was given -j, else gets
# -j$(nproc). (Expanded in the recipe: at parse time MAKEFLAGS has no -j
# yet, so a := test, like BUILD_JOBS's, never sees it.)
LINUX_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))
$(LINUX_TINY): guests/linux/tiny.config guests/linux/build-tiny.sh $(LINUX_SRC_STAMP)
	+@guests/linux/build-tiny.sh $(LINUX_SRC) $(LINUX_DIR)/tiny guests/linux/tiny.config \
		$@ $(LINUX_JOBS)

$(LINUX_DEBIAN):
	@guests/linux/fetch.sh linux-debian $(LINUX_DIR)/debian
	@cp $(LINUX_DIR)/debian/vmlinuz $@
	@echo "  LINUX   $@: $$(cat $(LINUX_DIR)/debian/.debian-version), $$(stat -c %s $@) bytes"

# Linux guest assets (included by the top-level Makefile; guests/linux/README.md).
# Built from Debian packages fetched with `apt-get download` (nothing is
# installed system-wide), never committed:
#   make linux-initramfs  build/linux/initramfs.cpio.gz (busybox-static)
# `make all` does not build it. Fetched packages stay in build/linux/.

LINUX_DIR := $(BUILD)/linux
LINUX_INITRAMFS := $(LINUX_DIR)/initramfs.cpio.gz
LINUX_BUSYBOX := $(LINUX_DIR)/busybox/busybox

.PHONY: linux-initramfs
linux-initramfs: $(LINUX_INITRAMFS)

# The fetched packages: each directory appears complete or not at all, and
# stays (its .debian-version says which package version it came from).
$(LINUX_BUSYBOX):
	@guests/linux/fetch.sh busybox $(LINUX_DIR)/busybox

$(LINUX_INITRAMFS): guests/linux/mkinitramfs.py guests/linux/init.sh $(LINUX_BUSYBOX)
	@$(PYTHON) guests/linux/mkinitramfs.py --busybox $(LINUX_BUSYBOX) \
		--init guests/linux/init.sh --out $@

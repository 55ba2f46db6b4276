#!/bin/sh
# /init of the Custos Linux guests' initramfs (guests/linux/mkinitramfs.py):
# mount the pseudo file systems, say it is ready, then a shell on the
# console, again whenever it exits (init must not exit: the kernel panics).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100
mount -t proc proc /proc
mount -t sysfs sysfs /sys
if ! mount -t devtmpfs devtmpfs /dev 2>/dev/null; then
	# No devtmpfs: the nodes the console and the shell need.
	[ -e /dev/console ] || mknod -m 600 /dev/console c 5 1
	[ -e /dev/null ] || mknod -m 666 /dev/null c 1 3
	[ -e /dev/ttyS0 ] || mknod -m 660 /dev/ttyS0 c 4 64
fi
mount -t tmpfs -o mode=1777 tmpfs /tmp
echo "custos-linux: init ready"
export PS1='custos# '
cd /root || cd /
while :; do
	# cttyhack opens the console's real tty (/sys/class/tty/console/active,
	# e.g. ttyS0) as the controlling terminal of a new session: job
	# control and ^C work on the serial line.
	setsid cttyhack sh
	echo "custos-linux: shell exited; starting another"
done

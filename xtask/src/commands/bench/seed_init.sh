#!/bin/sh
# The seed recipe's /init, copied verbatim below this note (only these comment
# lines are added): "qemu模拟linux最小系统", 2016-12-09, the blog post kept in
# ../shared/seed/000_0ffd557a125ecfad.txt of the minilinux project, section
# "3. 用busybox制作initramfs镜像". `cargo xtask bench` boots it as the baseline
# /init. On the 6.1 kernel /proc/sys/kernel/hotplug does not exist
# (CONFIG_UEVENT_HELPER is off), so its echo fails harmlessly.
echo
echo "###########################################################"
echo "## THis is a init script for initrd/initramfs            ##"
echo "###########################################################"
echo
PATH="/bin:/sbin:/usr/bin:/usr/sbin"
if [ ! -f "/bin/busybox" ];then
  echo "cat not find busybox in /bin dir, exit"
  exit 1
fi
BUSYBOX="/bin/busybox"
echo "build root filesystem..."
$BUSYBOX --install -s
if [ ! -d /proc ];then
  echo "/proc dir not exist, create it..."
  $BUSYBOX mkdir /proc
fi
echo "mount proc fs..."
$BUSYBOX mount -t proc proc /proc
if [ ! -d /dev ];then
  echo "/dev dir not exist, create it..."
  $BUSYBOX mkdir /dev
fi
# echo "mount tmpfs in /dev..."
# $BUSYBOX mount -t tmpfs dev /dev
$BUSYBOX mkdir -p /dev/pts
echo "mount devpts..."
$BUSYBOX mount -t devpts devpts /dev/pts
if [ ! -d /sys ];then
  echo "/sys dir not exist, create it..."
  $BUSYBOX mkdir /sys
fi
echo "mount sys fs..."
$BUSYBOX mount -t sysfs sys /sys
echo "/sbin/mdev" > /proc/sys/kernel/hotplug
echo "populate the dev dir..."
$BUSYBOX mdev -s
echo "drop to shell..."
$BUSYBOX sh
exit 0

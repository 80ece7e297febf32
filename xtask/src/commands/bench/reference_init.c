/*
 * The reference init of `cargo xtask bench --only boot`: the boot path issue 5
 * asks of PID 1, done with as little as can run it, to show what that work
 * itself costs under emulation, apart from how init is written.
 *
 * No C library: the kernel's own tools/include/nolibc/nolibc.h (a header with a
 * system call per function and a tiny _start) is included on the command line,
 * so there is no start-up code and one system call per step, about 3 KiB in all.
 * It does what init does before the shell prompt, in the same order:
 * mount proc, sysfs, devtmpfs, devpts and tmpfs on /tmp and /run; read
 * /proc/cmdline; set the host name from /etc/hostname; print a banner with
 * /proc/uptime; find the active console in /sys/class/tty/console/active;
 * start /bin/sh as a login shell in a new session with that console as its
 * controlling terminal; then reap children for ever. No error handling, no
 * command mode, no shutdown: not an init to use, a yardstick.
 */
static void mnt(const char *type, const char *target, unsigned long flags, const char *data)
{
	if (mount(type, target, type, flags, data) < 0)
		write(2, "reference init: mount failed\n", 29);
}

static int read_file(const char *path, char *buf, int len)
{
	int fd = open(path, O_RDONLY, 0);
	if (fd < 0)
		return 0;
	int n = read(fd, buf, len);
	close(fd);
	return n < 0 ? 0 : n;
}

int main(int argc, char **argv, char **envp)
{
	static char cmdline[4096], host[256], up[64], active[256], line[128], tty[300];
	char *args[] = { "-sh", 0 };
	enum { NOSUID = 2, NODEV = 4, NOEXEC = 8 };
	int n, l, s, e;

	mnt("proc", "/proc", NOSUID | NODEV | NOEXEC, "");
	mnt("sysfs", "/sys", NOSUID | NODEV | NOEXEC, "");
	mnt("devtmpfs", "/dev", NOSUID, "mode=0755");
	/* A fresh devtmpfs has no pts directory: init creates it too. */
	mkdir("/dev/pts", 0755);
	mnt("devpts", "/dev/pts", NOSUID | NOEXEC, "mode=0620,ptmxmode=0666");
	mnt("tmpfs", "/tmp", NOSUID | NODEV, "mode=1777");
	mnt("tmpfs", "/run", NOSUID | NODEV, "mode=0755");
	read_file("/proc/cmdline", cmdline, sizeof cmdline);
	n = read_file("/etc/hostname", host, sizeof host);
	for (l = 0; l < n && host[l] != '\n'; l++)
		;
	if (l > 0)
		my_syscall2(__NR_sethostname, host, l);
	n = read_file("/proc/uptime", up, sizeof up);
	for (l = 0; l < n && up[l] != ' '; l++)
		;
	memcpy(line, "reference init: up ", 19);
	memcpy(line + 19, up, l);
	memcpy(line + 19 + l, " s\n", 3);
	write(2, line, 22 + l);
	n = read_file("/sys/class/tty/console/active", active, sizeof active);
	for (e = n; e > 0 && (active[e - 1] == '\n' || active[e - 1] == ' '); e--)
		;
	for (s = e; s > 0 && active[s - 1] != ' '; s--)
		;
	memcpy(tty, "/dev/", 5);
	memcpy(tty + 5, active + s, e - s);
	tty[5 + e - s] = 0;
	if (fork() == 0) {
		int fd;

		setsid();
		fd = open(e > s ? tty : "/dev/console", O_RDWR, 0);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execve("/bin/sh", args, envp);
		exit(127);
	}
	for (;;) {
		int status;

		wait4(-1, &status, 0, 0);
	}
}

// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/blockdev.h"

struct blockdev {
	bool removable;
	int64_t checked_ns;
};

/* The first character of a sysfs attribute file: '1', '0', or 0 if it cannot be read. */
static char read_flag(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c;
}

/*
 * /sys/dev/block/MAJ:MIN links to the device's directory: a disk's has
 * "removable"; a partition's has "partition" and sits in its disk's
 * directory, whose "removable" says. (The kernel resolves the link before
 * "..", so "MAJ:MIN/.." is the disk.)
 */
static bool lookup(const char *sysfs, uint32_t major, uint32_t minor)
{
	char path[256];
	char c;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/removable", sysfs, major, minor);
	c = read_flag(path);
	if (c)
		return c == '1';
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/partition", sysfs, major, minor);
	if (access(path, F_OK))
		return false;
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/../removable", sysfs, major, minor);
	return read_flag(path) == '1';
}

bool blockdev_removable(struct blockdevs *b, uint32_t major, uint32_t minor, int64_t now_ns)
{
	uint64_t key = (uint64_t)major << 32 | minor;
	struct blockdev *d = hashmap_get(&b->devs, key);

	if (major == 0) /* the anonymous devices of tmpfs, overlayfs, NFS...: no disk */
		return false;
	if (d && now_ns - d->checked_ns < BLOCKDEV_KEEP_NS)
		return d->removable;
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return lookup(b->sysfs ?: BLOCKDEV_SYSFS, major, minor);
		if (hashmap_put(&b->devs, key, d, NULL)) {
			free(d);
			return lookup(b->sysfs ?: BLOCKDEV_SYSFS, major, minor);
		}
	}
	d->removable = lookup(b->sysfs ?: BLOCKDEV_SYSFS, major, minor);
	d->checked_ns = now_ns;
	return d->removable;
}

void blockdevs_clear(struct blockdevs *b)
{
	void *d;
	size_t i = 0;

	while (hashmap_next(&b->devs, &i, NULL, &d))
		free(d);
	hashmap_clear(&b->devs);
}

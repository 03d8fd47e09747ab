// SPDX-License-Identifier: GPL-2.0
/* Removable disks as sysfs says, on a tree made like /sys/dev/block. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/blockdev.h"

#include "test.h"

static void put(const char *root, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void dir(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdir(path, 0755);
}

static void link_to(const char *root, const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (symlink(target, path))
		perror(path);
}

TEST(blockdev_removable_disks_and_partitions)
{
	char root[] = "/tmp/custos-unit-sysfs-XXXXXX", cmd[128];
	struct blockdevs b = {0};

	if (!ASSERT_OK_PTR(mkdtemp(root), "mkdtemp"))
		return;
	b.sysfs = root;
	/* sda (8:0) fixed with sda1 (8:1); sdb (8:16) removable with sdb1 (8:17); a loop (7:0). */
	dir(root, "devices");
	dir(root, "devices/sda");
	dir(root, "devices/sda/sda1");
	dir(root, "devices/sdb");
	dir(root, "devices/sdb/sdb1");
	dir(root, "devices/loop0");
	put(root, "devices/sda/removable", "0\n");
	put(root, "devices/sda/sda1/partition", "1\n");
	put(root, "devices/sdb/removable", "1\n");
	put(root, "devices/sdb/sdb1/partition", "1\n");
	put(root, "devices/loop0/removable", "0\n");
	dir(root, "dev");
	dir(root, "dev/block");
	link_to(root, "../../devices/sda", "dev/block/8:0");
	link_to(root, "../../devices/sda/sda1", "dev/block/8:1");
	link_to(root, "../../devices/sdb", "dev/block/8:16");
	link_to(root, "../../devices/sdb/sdb1", "dev/block/8:17");
	link_to(root, "../../devices/loop0", "dev/block/7:0");

	ASSERT_FALSE(blockdev_removable(&b, 8, 0, 0), "sda");
	ASSERT_FALSE(blockdev_removable(&b, 8, 1, 0), "sda1, on sda");
	ASSERT_TRUE(blockdev_removable(&b, 8, 16, 0), "sdb");
	ASSERT_TRUE(blockdev_removable(&b, 8, 17, 0), "sdb1, on sdb");
	ASSERT_FALSE(blockdev_removable(&b, 7, 0, 0), "loop0");
	ASSERT_FALSE(blockdev_removable(&b, 0, 45, 0), "tmpfs (an anonymous device)");
	ASSERT_FALSE(blockdev_removable(&b, 259, 3, 0), "a device sysfs does not know");

	/* Cached for a while: sdb taken out and 8:16 now a fixed disk is seen after that. */
	put(root, "devices/sdb/removable", "0\n");
	ASSERT_TRUE(blockdev_removable(&b, 8, 17, 1000), "sdb1, cached");
	ASSERT_FALSE(blockdev_removable(&b, 8, 17, BLOCKDEV_KEEP_NS + 1), "sdb1, asked again");

	blockdevs_clear(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		perror(cmd);
}

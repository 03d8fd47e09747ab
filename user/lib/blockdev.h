/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether the disk behind a filesystem's device is removable (a USB stick,
 * an SD card), as sysfs says: /sys/dev/block/MAJ:MIN/removable, or for a
 * partition its disk's. Answers are cached for a few seconds (a device
 * number may come back as another disk).
 */
#ifndef CUSTOS_BLOCKDEV_H
#define CUSTOS_BLOCKDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hashmap.h"

#define BLOCKDEV_SYSFS	 "/sys"
#define BLOCKDEV_KEEP_NS (10LL * 1000000000LL) /* an answer is asked again after this */

struct blockdevs {
	const char *sysfs; /* NULL: BLOCKDEV_SYSFS (tests point it at a tree of their own) */
	struct hashmap devs;
};

/*
 * Is device major:minor on a removable disk? false when it is not a block
 * device (tmpfs, overlayfs, NFS), or sysfs does not say. now_ns:
 * CLOCK_BOOTTIME, for the cache.
 */
bool blockdev_removable(struct blockdevs *b, uint32_t major, uint32_t minor, int64_t now_ns);
void blockdevs_clear(struct blockdevs *b);

#endif /* CUSTOS_BLOCKDEV_H */

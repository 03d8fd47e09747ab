// SPDX-License-Identifier: GPL-2.0
/* file_trusted(): files only root can change, and secrets only root can read. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/trust.h"
#include "test.h"

#define NOBODY 65534

struct tree {
	char dir[64];	/* made by root, 0755, in /tmp (root's and sticky) */
	char file[128]; /* dir/f, 0644 */
};

static bool tree_make(struct tree *t, mode_t dir_mode, mode_t file_mode)
{
	int fd;

	if (!ASSERT_EQ(geteuid(), 0, "the trust tests run as root (files owned by root)"))
		return false;
	snprintf(t->dir, sizeof(t->dir), "/tmp/custos-trust-XXXXXX");
	if (!ASSERT_OK_PTR(mkdtemp(t->dir), "mkdtemp"))
		return false;
	snprintf(t->file, sizeof(t->file), "%s/f", t->dir);
	fd = open(t->file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (!ASSERT_TRUE(fd >= 0, "create the file"))
		return false;
	close(fd);
	return ASSERT_OK(chmod(t->dir, dir_mode), "chmod dir") &&
	       ASSERT_OK(chmod(t->file, file_mode), "chmod file");
}

static void tree_free(struct tree *t)
{
	unlink(t->file);
	rmdir(t->dir);
}

TEST(trust_owner_and_mode)
{
	struct tree t;
	char err[1024];

	if (!tree_make(&t, 0755, 0644))
		goto cleanup;
	ASSERT_OK(file_trusted(t.file, "config file", 0, err, sizeof(err)),
		  "root 0644 in root 0755");

	ASSERT_OK(chmod(t.file, 0664), "chmod 0664");
	ASSERT_EQ(file_trusted(t.file, "config file", 0, err, sizeof(err)), -EPERM, "0664");
	ASSERT_HAS(err, "writable by group", "message of 0664");
	ASSERT_HAS(err, "mode 0664", "message of 0664 names the mode");
	ASSERT_HAS(err, t.file, "message of 0664 names the file");

	ASSERT_OK(chmod(t.file, 0646), "chmod 0646");
	ASSERT_EQ(file_trusted(t.file, "config file", 0, err, sizeof(err)), -EPERM, "0646");
	ASSERT_HAS(err, "writable by anyone", "message of 0646");

	ASSERT_OK(chmod(t.file, 0644), "chmod 0644");
	ASSERT_OK(chown(t.file, NOBODY, 0), "chown nobody");
	ASSERT_EQ(file_trusted(t.file, "config file", 0, err, sizeof(err)), -EPERM, "owner nobody");
	ASSERT_HAS(err, "not owned by root", "message of owner nobody");
	ASSERT_HAS(err, "chown root", "message of owner nobody names the fix");
cleanup:
	tree_free(&t);
}

TEST(trust_secret)
{
	struct tree t;
	char err[1024];

	if (!tree_make(&t, 0755, 0600))
		goto cleanup;
	ASSERT_OK(file_trusted(t.file, "key file", TRUST_SECRET, err, sizeof(err)), "secret 0600");
	ASSERT_OK(chmod(t.file, 0640), "chmod 0640");
	ASSERT_OK(file_trusted(t.file, "key file", 0, err, sizeof(err)), "0640, not a secret");
	ASSERT_EQ(file_trusted(t.file, "key file", TRUST_SECRET, err, sizeof(err)), -EPERM,
		  "secret 0640");
	ASSERT_HAS(err, "key file", "message names what the file is");
	ASSERT_HAS(err, "chmod go=", "message of a readable secret names the fix");
cleanup:
	tree_free(&t);
}

TEST(trust_directories)
{
	struct tree t;
	char err[1024];

	if (!tree_make(&t, 0775, 0644))
		goto cleanup;
	ASSERT_EQ(file_trusted(t.file, "config file", 0, err, sizeof(err)), -EPERM,
		  "in a group-writable directory");
	ASSERT_HAS(err, "its directory", "message names the directory");
	ASSERT_HAS(err, t.dir, "message names the directory's path");

	ASSERT_OK(chmod(t.dir, 01777), "chmod 1777");
	ASSERT_OK(file_trusted(t.file, "config file", 0, err, sizeof(err)),
		  "in a sticky world-writable directory, like /tmp");

	ASSERT_OK(chmod(t.dir, 0755), "chmod 0755");
	ASSERT_OK(chown(t.dir, NOBODY, 0), "chown dir nobody");
	ASSERT_EQ(file_trusted(t.file, "config file", 0, err, sizeof(err)), -EPERM,
		  "in a directory owned by nobody");
cleanup:
	tree_free(&t);
}

TEST(trust_not_a_file)
{
	char err[1024];

	ASSERT_EQ(file_trusted("/tmp", "config file", 0, err, sizeof(err)), -EPERM, "a directory");
	ASSERT_HAS(err, "not a regular file", "message of a directory");
	ASSERT_EQ(file_trusted("/nonexistent/custos.json", "config file", 0, err, sizeof(err)),
		  -ENOENT, "a missing file");
	ASSERT_HAS(err, "cannot read", "message of a missing file");
}

TEST(trust_dir)
{
	struct tree t;
	char err[1024];

	if (!tree_make(&t, 0755, 0644))
		goto cleanup;
	ASSERT_OK(file_trusted(t.dir, "include directory", TRUST_DIR, err, sizeof(err)),
		  "root 0755 directory");
	ASSERT_EQ(file_trusted(t.file, "include directory", TRUST_DIR, err, sizeof(err)), -EPERM,
		  "a file as a directory");
	ASSERT_HAS(err, "not a directory", "message of a file");
	ASSERT_OK(chmod(t.dir, 01777), "chmod 1777");
	ASSERT_EQ(file_trusted(t.dir, "include directory", TRUST_DIR, err, sizeof(err)), -EPERM,
		  "sticky world-writable: anyone could add a file");
	ASSERT_HAS(err, "writable by anyone", "message of a sticky directory");
	ASSERT_OK(chmod(t.dir, 0775), "chmod 0775");
	ASSERT_EQ(file_trusted(t.dir, "include directory", TRUST_DIR, err, sizeof(err)), -EPERM,
		  "group-writable");
	ASSERT_OK(chmod(t.dir, 0755), "chmod 0755");
cleanup:
	tree_free(&t);
}

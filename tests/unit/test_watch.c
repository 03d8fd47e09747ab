// SPDX-License-Identifier: GPL-2.0
/* Resolving watch rules against a real temporary directory tree. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "kernel/watch.h"

#include "test.h"

static char root[64];

static void touch(const char *rel)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (f)
		fclose(f);
}

static void mkdir_rel(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static const struct watch_item *find_path(const struct watch_set *set, const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (stat(p, &st))
		return NULL;
	return watch_find(set, watch_kernel_dev(st.st_dev), st.st_ino);
}

static struct config *config_for(const char *fmt)
{
	char text[2048];
	struct config_error err;

	snprintf(text, sizeof(text), fmt, root, root, root, root, root);
	return config_load_string(text, "test", &err);
}

static void tree_setup(void)
{
	snprintf(root, sizeof(root), "/tmp/custos-unit-XXXXXX");
	if (!mkdtemp(root))
		abort();
	mkdir_rel("crm");
	mkdir_rel("crm/sub");
	touch("crm/sub/a.csv");
	mkdir_rel("exports");
	touch("exports/x.csv");
	touch("exports/y.csv");
	touch("exports/z.txt");
	touch("single.db");
}

static void tree_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", root);
}

TEST(watch_resolve_dirs_globs_files)
{
	struct config *cfg;
	struct watch_set set;
	const struct watch_item *it;

	tree_setup();
	cfg = config_for(
	    "{\"watch\": [{\"name\": \"a\", \"paths\": [\"%s/crm\", \"%s/exports/*.csv\"]},"
	    " {\"name\": \"b\", \"paths\": [\"%s/single.db\", \"%s/missing\"]}]}");
	if (!ASSERT_OK_PTR(cfg, "config"))
		goto out_tree;
	if (!ASSERT_OK(watch_resolve(cfg, &set), "resolve"))
		goto out_cfg;
	ASSERT_EQ(set.n_items, 4, "items: crm, x.csv, y.csv, single.db");
	it = find_path(&set, "crm");
	ASSERT_TRUE(it && it->kind == CUSTOS_WATCH_DIR && it->rule == 0, "crm is a dir of rule 0");
	ASSERT_TRUE(find_path(&set, "exports/x.csv"), "glob match");
	ASSERT_NULL(find_path(&set, "exports/z.txt"), "glob non-match");
	ASSERT_NULL(find_path(&set, "crm/sub/a.csv"), "below a dir: the kernel walks to it");
	it = find_path(&set, "single.db");
	ASSERT_TRUE(it && it->kind == CUSTOS_WATCH_FILE && it->rule == 1, "file of rule 1");
	ASSERT_EQ(set.n_warnings, 1, "one warning");
	ASSERT_HAS(set.n_warnings ? set.warnings[0] : "", "missing", "warning names the path");
	watch_set_free(&set);
out_cfg:
	config_free(cfg);
out_tree:
	tree_cleanup();
}

TEST(watch_match_path_ancestors)
{
	struct config *cfg;
	struct watch_set set;
	char p[256];

	tree_setup();
	cfg = config_for("{\"watch\": [{\"name\": \"a\", \"paths\": [\"%s/crm\"]}]}");
	if (!ASSERT_OK_PTR(cfg, "config") || !ASSERT_OK(watch_resolve(cfg, &set), "resolve"))
		goto out;
	snprintf(p, sizeof(p), "%s/crm/sub/a.csv", root);
	ASSERT_OK_PTR(watch_match_path(&set, p), "file below a watched dir");
	snprintf(p, sizeof(p), "%s/crm/sub/not-yet", root);
	ASSERT_OK_PTR(watch_match_path(&set, p), "a name that does not exist below it");
	snprintf(p, sizeof(p), "%s/exports/x.csv", root);
	ASSERT_NULL(watch_match_path(&set, p), "elsewhere");
	snprintf(p, sizeof(p), "%s/crm-other", root);
	ASSERT_NULL(watch_match_path(&set, p), "common prefix is not below");
	watch_set_free(&set);
out:
	config_free(cfg);
	tree_cleanup();
}

TEST(watch_exclusion_masks)
{
	struct config *cfg;
	struct watch_set set;
	uint64_t all = ~0ULL;

	tree_setup();
	cfg = config_for(
	    "{\"watch\": [{\"name\": \"a\", \"paths\": [\"%s/crm\"],"
	    " \"exclude\": {\"comm\": [\"backupd\"], \"uid\": [7]}},"
	    " {\"name\": \"b\", \"paths\": [\"%s/exports\"]}],"
	    " \"exclude\": {\"comm\": [\"backupd\"], \"exe\": [\"%s/single.db\"], \"uid\": [9]}}");
	if (!ASSERT_OK_PTR(cfg, "config") || !ASSERT_OK(watch_resolve(cfg, &set), "resolve"))
		goto out;
	ASSERT_EQ(watch_excluded(&set, "backupd", 1000, 0, 0), all, "comm: global and rule 0");
	ASSERT_EQ(watch_excluded(&set, "cat", 7, 0, 0), 1, "uid 7: rule 0 only");
	ASSERT_EQ(watch_excluded(&set, "cat", 9, 0, 0), all, "uid 9: everywhere");
	ASSERT_EQ(watch_excluded(&set, "cat", 1000, 0, 0), 0, "nobody else");
	ASSERT_EQ(set.n_exes, 1, "exe resolved to an inode");
	ASSERT_EQ(watch_excluded(&set, "cat", 1000, set.exes[0].dev, set.exes[0].ino), all, "exe");
	watch_set_free(&set);
out:
	config_free(cfg);
	tree_cleanup();
}

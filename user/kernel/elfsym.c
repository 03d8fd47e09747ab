// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/elfsym.h"

/* A symbol's address to its offset in the file, through the loadable segment holding it. */
static uint64_t file_offset(Elf *elf, uint64_t addr)
{
	size_t i, n;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_memsz)
			return addr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

/*
 * Does the symbol table's string table hold at least one of the names? Most
 * files hold none: one search through their strings spares reading every
 * symbol (the agent looks at every program on the host at start).
 */
static bool strings_hold_any(Elf *elf, size_t strtab, const char *const *names, size_t n)
{
	Elf_Data *data = elf_getdata(elf_getscn(elf, strtab), NULL);
	size_t j;

	if (!data || !data->d_buf)
		return true; /* cannot tell: look at the symbols */
	for (j = 0; j < n; j++)
		if (names[j][0] &&
		    memmem(data->d_buf, data->d_size, names[j], strlen(names[j]) + 1))
			return true;
	return false;
}

static int scan_table(Elf *elf, Elf_Scn *scn, const char *const *names, size_t n, uint64_t *offsets)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	int found = 0;
	GElf_Shdr sh;
	size_t i, j, count;

	if (!data || !gelf_getshdr(scn, &sh) || !sh.sh_entsize ||
	    !strings_hold_any(elf, sh.sh_link, names, n))
		return 0;
	count = sh.sh_size / sh.sh_entsize;
	for (i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!name)
			continue;
		for (j = 0; j < n; j++) {
			/* Versioned duplicates share the address: the first one is enough. */
			if (offsets[j] || !names[j][0] || strcmp(name, names[j]))
				continue;
			offsets[j] = file_offset(elf, sym.st_value);
			found += offsets[j] != 0;
		}
	}
	return found;
}

int elfsym_find(const char *path, const char *const *names, size_t n, uint64_t *offsets)
{
	Elf_Scn *scn = NULL, *dynsym = NULL, *symtab = NULL;
	int fd, found = 0;
	GElf_Shdr sh;
	Elf *elf;

	memset(offsets, 0, n * sizeof(*offsets));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL); /* only the pages read */
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		found = -ENOEXEC;
		goto out_close;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM)
			dynsym = scn;
		else if (sh.sh_type == SHT_SYMTAB)
			symtab = scn;
	}
	if (dynsym)
		found += scan_table(elf, dynsym, names, n, offsets);
	if (symtab && (size_t)found < n)
		found += scan_table(elf, symtab, names, n, offsets);
out_close:
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

bool elfsym_needs(const char *path, const char *prefix)
{
	Elf_Scn *scn = NULL;
	bool found = false;
	GElf_Shdr sh;
	Elf *elf;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (elf && !found && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (i = 0; data && !found && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *name;

			if (!gelf_getdyn(data, i, &dyn) || dyn.d_tag != DT_NEEDED)
				continue;
			name = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			found = name && !strncmp(name, prefix, strlen(prefix));
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

bool elfsym_contains(const char *path, const char *marker)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = strlen(marker);
	bool found = false;
	struct stat st;
	void *map;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size >= len) {
		map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			found = memmem(map, st.st_size, marker, len) != NULL;
			munmap(map, st.st_size);
		}
	}
	close(fd);
	return found;
}

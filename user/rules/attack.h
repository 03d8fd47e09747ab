/* SPDX-License-Identifier: GPL-2.0 */
/* MITRE ATT&CK techniques the rules name, with their tactics (attack.c). */
#ifndef CUSTOS_RULES_ATTACK_H
#define CUSTOS_RULES_ATTACK_H

struct attack_technique {
	const char *id, *name, *tactic_id, *tactic_name;
};

/* The technique of id ("T1213", or a sub-technique "T1048.003" by its parent); NULL: unknown. */
const struct attack_technique *attack_technique(const char *id);

#endif /* CUSTOS_RULES_ATTACK_H */

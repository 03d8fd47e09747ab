// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "rules/attack.h"

/* The techniques of collection and exfiltration that accesses to customer data show. */
static const struct attack_technique techniques[] = {
    {"T1005", "Data from Local System", "TA0009", "Collection"},
    {"T1025", "Data from Removable Media", "TA0009", "Collection"},
    {"T1039", "Data from Network Shared Drive", "TA0009", "Collection"},
    {"T1074", "Data Staged", "TA0009", "Collection"},
    {"T1119", "Automated Collection", "TA0009", "Collection"},
    {"T1213", "Data from Information Repositories", "TA0009", "Collection"},
    {"T1530", "Data from Cloud Storage", "TA0009", "Collection"},
    {"T1560", "Archive Collected Data", "TA0009", "Collection"},
    {"T1020", "Automated Exfiltration", "TA0010", "Exfiltration"},
    {"T1030", "Data Transfer Size Limits", "TA0010", "Exfiltration"},
    {"T1041", "Exfiltration Over C2 Channel", "TA0010", "Exfiltration"},
    {"T1048", "Exfiltration Over Alternative Protocol", "TA0010", "Exfiltration"},
    {"T1052", "Exfiltration Over Physical Medium", "TA0010", "Exfiltration"},
    {"T1567", "Exfiltration Over Web Service", "TA0010", "Exfiltration"},
    {"T1078", "Valid Accounts", "TA0001", "Initial Access"},
};

const struct attack_technique *attack_technique(const char *id)
{
	size_t i, n = strcspn(id, ".");

	for (i = 0; i < sizeof(techniques) / sizeof(techniques[0]); i++)
		if (strlen(techniques[i].id) == n && !strncmp(techniques[i].id, id, n))
			return &techniques[i];
	return NULL;
}

/*
 * country.h - the assigned ISO 3166-1 alpha-2 country codes: the one table
 * every country code of a record, a policy file or a flag is checked
 * against.
 */
#ifndef LS_COUNTRY_H
#define LS_COUNTRY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when s is an officially assigned ISO 3166-1 alpha-2 code, upper case
 * ("DE", "GB"). False for NULL, lower case, other lengths, and codes that
 * are only reserved or user-assigned ("UK", "EU", "XX", "ZZ").
 */
bool ls_country_valid(const char *s);

/* The number of assigned codes in the table (249). */
size_t ls_country_count(void);

/*
 * A hint for a code that is not assigned but is often written for one that
 * is ("UK": "UK is not an ISO 3166-1 code; the United Kingdom is GB"), or
 * for a lower-case code; NULL when there is none. The string is static.
 */
const char *ls_country_hint(const char *s);

#endif

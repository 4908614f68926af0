/*
 * country.c - the assigned ISO 3166-1 alpha-2 country codes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "country.h"

/*
 * The 249 officially assigned codes of ISO 3166-1 alpha-2, sorted, two
 * letters each, one string per initial. Codes that are only reserved
 * (exceptionally, transitionally or indeterminately: UK, EU, EL, AC, ...) or
 * user-assigned (AA, QM..QZ, XA..XZ, ZZ) are not countries a certificate,
 * lot, policy or license can name.
 */
static const char assigned[] = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZ"
			       "BABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ"
			       "CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ"
			       "DEDJDKDMDODZ"
			       "ECEEEGEHERESET"
			       "FIFJFKFMFOFR"
			       "GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY"
			       "HKHMHNHRHTHU"
			       "IDIEILIMINIOIQIRISIT"
			       "JEJMJOJP"
			       "KEKGKHKIKMKNKPKRKWKYKZ"
			       "LALBLCLILKLRLSLTLULVLY"
			       "MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZ"
			       "NANCNENFNGNINLNONPNRNUNZ"
			       "OM"
			       "PAPEPFPGPHPKPLPMPNPRPSPTPWPY"
			       "QA"
			       "RERORSRURW"
			       "SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZ"
			       "TCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ"
			       "UAUGUMUSUYUZ"
			       "VAVCVEVGVIVNVU"
			       "WFWS"
			       "YEYT"
			       "ZAZMZW";

#define N_ASSIGNED ((sizeof(assigned) - 1) / 2)

bool
ls_country_valid(const char *s)
{
	size_t lo = 0, hi = N_ASSIGNED;

	if (s == NULL || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] != '\0')
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(assigned + 2 * mid, s, 2);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

size_t
ls_country_count(void)
{
	return N_ASSIGNED;
}

/* Codes people write for a country that has another code. */
static const struct {
	const char *code, *hint;
} hints[] = {
    {"UK", "UK is not an ISO 3166-1 code; the United Kingdom is GB"},
    {"EL", "EL is not an ISO 3166-1 code; Greece is GR"},
    {"EU", "EU is the European Union, not a country: name its member states (DE, FR, ...)"},
    {"XK", "XK is a user-assigned code, not an ISO 3166-1 assignment"},
};

const char *
ls_country_hint(const char *s)
{
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(s, hints[i].code) == 0)
			return hints[i].hint;
	if (strlen(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z')
		return "country codes are upper case";
	return NULL;
}

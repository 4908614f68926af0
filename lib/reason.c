#include "reason.h"

static const char *const codes[LS_R_COUNT] = {
    [LS_R_OK] = "ok",
    [LS_R_MALFORMED] = "malformed",
    [LS_R_TOO_BIG] = "too-big",
    [LS_R_BAD_SIGNATURE] = "bad-signature",
    [LS_R_UNSUPPORTED] = "unsupported-version",
    [LS_R_NO_CERTIFICATE] = "no-certificate",
    [LS_R_WRONG_ROLE] = "wrong-role",
    [LS_R_CERT_EXPIRED] = "certificate-expired",
    [LS_R_REVOKED] = "revoked",
    [LS_R_UNTRUSTED] = "untrusted",
    [LS_R_BAD_PREV] = "bad-prev",
    [LS_R_TIME_BACKWARDS] = "time-backwards",
    [LS_R_EQUIVOCATION] = "equivocation",
    [LS_R_UNKNOWN_LOT] = "unknown-lot",
    [LS_R_NOT_HOLDER] = "not-holder",
    [LS_R_OVERSPEND] = "overspend",
    [LS_R_MASS_BALANCE] = "mass-balance",
    [LS_R_IN_TRANSIT] = "in-transit",
    [LS_R_BAD_RECEIPT] = "bad-receipt",
    [LS_R_BAD_RECEIVER] = "bad-receiver",
    [LS_R_NO_LICENSE] = "no-license",
    [LS_R_LICENSE_MISMATCH] = "license-mismatch",
    [LS_R_LICENSE_EXPIRED] = "license-expired",
    [LS_R_LICENSE_EXHAUSTED] = "license-exhausted",
    [LS_R_LICENSE_REVOKED] = "license-revoked",
    [LS_R_REEXPORT_BARRED] = "reexport-barred",
    [LS_R_END_USE_DENIED] = "end-use-denied",
    [LS_R_END_USER_DENIED] = "end-user-denied",
    [LS_R_CONTROLLED] = "controlled",
    [LS_R_EXEMPT] = "exempt",
    [LS_R_DE_MINIMIS] = "de-minimis",
    [LS_R_PENDING_FULL] = "pending-full",
    [LS_R_FUTURE] = "future-dated",
    [LS_R_NOT_MADE] = "not-made",
    [LS_R_MISSING_DEP] = "missing-dependency",
    [LS_R_BACKDATED] = "backdated",
    [LS_R_UNWITNESSED] = "unwitnessed",
    [LS_R_LOG_PROOF] = "log-proof",
    [LS_R_SPLIT_VIEW] = "split-view",
    [LS_R_STALE] = "stale-checkpoint",
    [LS_R_DUPLICATE_NAME] = "duplicate-name",
    [LS_R_STORE] = "store-error",
    [LS_R_DEP_REJECTED] = "dependency-rejected",
};

const char *
ls_reason_code(enum ls_reason r)
{
	if ((unsigned)r >= LS_R_COUNT || codes[r] == 0)
		return "unknown";
	return codes[r];
}

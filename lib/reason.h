/*
 * reason.h - stable machine codes for why a record is rejected or a lot is
 * not valid. The codes are a contract (scripts match on them); the message
 * beside each is for people.
 */
#ifndef LS_REASON_H
#define LS_REASON_H

enum ls_reason {
	LS_R_OK = 0,
	LS_R_MALFORMED,         /* malformed */
	LS_R_TOO_BIG,           /* too-big */
	LS_R_BAD_SIGNATURE,     /* bad-signature */
	LS_R_UNSUPPORTED,       /* unsupported-version */
	LS_R_NO_CERTIFICATE,    /* no-certificate */
	LS_R_WRONG_ROLE,        /* wrong-role */
	LS_R_CERT_EXPIRED,      /* certificate-expired: outside its validity */
	LS_R_REVOKED,           /* revoked */
	LS_R_UNTRUSTED,         /* untrusted: certificate not from a trusted authority */
	LS_R_BAD_PREV,          /* bad-prev: prev is not the author's previous record */
	LS_R_TIME_BACKWARDS,    /* time-backwards */
	LS_R_EQUIVOCATION,      /* equivocation */
	LS_R_UNKNOWN_LOT,       /* unknown-lot */
	LS_R_NOT_HOLDER,        /* not-holder */
	LS_R_OVERSPEND,         /* overspend */
	LS_R_MASS_BALANCE,      /* mass-balance */
	LS_R_IN_TRANSIT,        /* in-transit: not yet received */
	LS_R_BAD_RECEIPT,       /* bad-receipt */
	LS_R_BAD_RECEIVER,      /* bad-receiver: to_cert does not certify `to` */
	LS_R_NO_LICENSE,        /* no-license */
	LS_R_LICENSE_MISMATCH,  /* license-mismatch: wrong licensee, item, destination... */
	LS_R_LICENSE_EXPIRED,   /* license-expired */
	LS_R_LICENSE_EXHAUSTED, /* license-exhausted */
	LS_R_LICENSE_REVOKED,   /* license-revoked */
	LS_R_REEXPORT_BARRED,   /* reexport-barred */
	LS_R_END_USE_DENIED,    /* end-use-denied */
	LS_R_END_USER_DENIED,   /* end-user-denied */
	LS_R_CONTROLLED,        /* controlled: a license is required */
	LS_R_EXEMPT,            /* exempt: informational */
	LS_R_DE_MINIMIS,        /* de-minimis: informational, below threshold */
	LS_R_PENDING_FULL,      /* pending-full: too many records wait for dependencies */
	LS_R_FUTURE,            /* future-dated: ahead of the node's clock (admission) */
	LS_R_NOT_MADE,          /* not-made: the lot did not exist at the date asked */
	LS_R_MISSING_DEP,       /* missing-dependency: names a record the bundle lacks */
	LS_R_BACKDATED,         /* backdated: claimed time far before its logged time */
	LS_R_UNWITNESSED,       /* unwitnessed: no logged time (a warning), or a checkpoint
				 * short of the witness quorum asked for */
	LS_R_LOG_PROOF,         /* log-proof: a bundle's log proof does not hold */
	LS_R_SPLIT_VIEW,        /* split-view: the producing log signed two histories */
	LS_R_STALE,             /* stale-checkpoint: older than --max-age */
	LS_R_DUPLICATE_NAME,    /* duplicate-name: the author used that label or license
				   number before (admission) */
	LS_R_STORE,             /* store-error */
	LS_R_DEP_REJECTED,      /* dependency-rejected: names a record refused in the same
				   submission (admission) */
	LS_R_COUNT
};

/* The stable code ("overspend"); "unknown" for out-of-range values. */
const char *ls_reason_code(enum ls_reason r);

#endif

//! The injection plan: which secret goes where in the outbound request.
//!
//! On the wire (extension) the plan is the `X-AS-Inject` header whose value is
//! a JSON array, applied in order:
//!
//! ```text
//! X-AS-Inject: [{"style":"bearer","secret":"STRIPE_KEY"},
//!               {"style":"query","target":"key","secret":"GMAP_KEY"}]
//! ```
//!
//! Targets keep their exact case because they travel in a header *value*.
//! The upstream protocol's `X-AS-Inject-<Style>[-<Target>]` headers map to the
//! same plan (see [`InjectionPlan::push_legacy`]).

use crate::names::{self, NameError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where a secret value is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthStyle {
    /// `Authorization: Bearer <value>`
    Bearer,
    /// `Authorization: Basic base64(<value>)`; the value is `user:password`.
    Basic,
    /// `<target>: <value>`
    Header,
    /// `?<target>=<value>`
    Query,
    /// JSON body field at the dotted path `<target>`.
    Body,
    /// `application/x-www-form-urlencoded` field `<target>`.
    Form,
}

impl AuthStyle {
    pub const ALL: [AuthStyle; 6] = [
        AuthStyle::Bearer,
        AuthStyle::Basic,
        AuthStyle::Header,
        AuthStyle::Query,
        AuthStyle::Body,
        AuthStyle::Form,
    ];

    /// Name used in the wire format and the audit log's `auth_styles`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthStyle::Bearer => "bearer",
            AuthStyle::Basic => "basic",
            AuthStyle::Header => "header",
            AuthStyle::Query => "query",
            AuthStyle::Body => "body",
            AuthStyle::Form => "form",
        }
    }

    /// Whether the style needs a target name.
    pub fn has_target(self) -> bool {
        !matches!(self, AuthStyle::Bearer | AuthStyle::Basic)
    }

    fn target_what(self) -> &'static str {
        match self {
            AuthStyle::Header => "header name",
            AuthStyle::Query => "query parameter",
            AuthStyle::Body => "body field path",
            AuthStyle::Form => "form field",
            AuthStyle::Bearer | AuthStyle::Basic => "target",
        }
    }
}

/// One injection: the secret named `secret` goes to `target` in `style`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Injection {
    pub style: AuthStyle,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub secret: String,
}

impl Injection {
    pub fn new(style: AuthStyle, target: Option<&str>, secret: &str) -> Self {
        Injection {
            style,
            target: target.map(str::to_owned),
            secret: secret.to_owned(),
        }
    }

    /// Where the value lands, for conflict detection: two injections with the
    /// same destination would make the result depend on order.
    fn destination(&self) -> (u8, String) {
        match self.style {
            AuthStyle::Bearer | AuthStyle::Basic => (0, "authorization".into()),
            AuthStyle::Header => (
                0,
                self.target.clone().unwrap_or_default().to_ascii_lowercase(),
            ),
            AuthStyle::Query => (1, self.target.clone().unwrap_or_default()),
            AuthStyle::Body => (2, self.target.clone().unwrap_or_default()),
            AuthStyle::Form => (3, self.target.clone().unwrap_or_default()),
        }
    }
}

/// Why a plan was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("{style} injection needs a target name")]
    MissingTarget { style: &'static str },
    #[error("{style} injection takes no target name")]
    UnexpectedTarget { style: &'static str },
    #[error("header {shown} cannot be injected: {why}")]
    ForbiddenHeader { shown: String, why: &'static str },
    #[error("two injections write the same place ({what}); keep one")]
    Conflict { what: String },
    #[error("the X-AS-Inject header is not a valid injection list: {0}")]
    Malformed(String),
    #[error("too many injections (at most {max})")]
    TooMany { max: usize },
    #[error("unknown injection header {shown}; expected X-AS-Inject-Bearer, -Basic, -Header-<Name>, -Query-<Param>, -Body-<Path> or -Form-<Field>")]
    UnknownLegacyStyle { shown: String },
    #[error("both bearer and basic set the Authorization header; keep one")]
    BearerAndBasic,
    #[error("a JSON body field path has an empty segment in {shown}")]
    EmptyPathSegment { shown: String },
}

/// Upper bound on injections in one request.
pub const MAX_INJECTIONS: usize = 64;

/// Headers neither an injection nor a caller may set: the HTTP transport owns them.
pub const TRANSPORT_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-connection",
];

/// The ordered list of injections for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InjectionPlan {
    pub injections: Vec<Injection>,
}

impl InjectionPlan {
    pub fn is_empty(&self) -> bool {
        self.injections.is_empty()
    }

    /// Secret names in order, without repeats.
    pub fn secret_keys(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for i in &self.injections {
            if !out.contains(&i.secret) {
                out.push(i.secret.clone());
            }
        }
        out
    }

    /// Styles in order, without repeats (audit `auth_styles`).
    pub fn styles(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for i in &self.injections {
            if !out.contains(&i.style.as_str()) {
                out.push(i.style.as_str());
            }
        }
        out
    }

    /// Checks every name and that no two injections write the same place.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.injections.len() > MAX_INJECTIONS {
            return Err(PlanError::TooMany {
                max: MAX_INJECTIONS,
            });
        }
        let mut seen = std::collections::HashSet::new();
        let mut has_bearer = false;
        let mut has_basic = false;
        for inj in &self.injections {
            names::validate_secret_key(&inj.secret)?;
            match (&inj.target, inj.style.has_target()) {
                (None, true) => {
                    return Err(PlanError::MissingTarget {
                        style: inj.style.as_str(),
                    })
                }
                (Some(_), false) => {
                    return Err(PlanError::UnexpectedTarget {
                        style: inj.style.as_str(),
                    })
                }
                _ => {}
            }
            if let Some(target) = &inj.target {
                match inj.style {
                    AuthStyle::Header => {
                        names::validate_header_name(target)?;
                        let lower = target.to_ascii_lowercase();
                        if lower.starts_with(crate::headers::RESERVED_PREFIX) {
                            return Err(PlanError::ForbiddenHeader {
                                shown: names::shown(target),
                                why: "X-AS-* headers are reserved for the protocol",
                            });
                        }
                        if TRANSPORT_HEADERS.contains(&lower.as_str()) {
                            return Err(PlanError::ForbiddenHeader {
                                shown: names::shown(target),
                                why: "it is controlled by the HTTP transport",
                            });
                        }
                    }
                    AuthStyle::Body => {
                        names::validate_target(inj.style.target_what(), target)?;
                        if split_body_path(target).iter().any(String::is_empty) {
                            return Err(PlanError::EmptyPathSegment {
                                shown: names::shown(target),
                            });
                        }
                    }
                    _ => names::validate_target(inj.style.target_what(), target)?,
                }
            }
            has_bearer |= inj.style == AuthStyle::Bearer;
            has_basic |= inj.style == AuthStyle::Basic;
            if has_bearer && has_basic {
                return Err(PlanError::BearerAndBasic);
            }
            let dest = inj.destination();
            if !seen.insert(dest.clone()) {
                let what = match inj.style {
                    AuthStyle::Bearer | AuthStyle::Basic => "the Authorization header".to_owned(),
                    s => format!("{} {}", s.target_what(), names::shown(&dest.1)),
                };
                return Err(PlanError::Conflict { what });
            }
        }
        Ok(())
    }

    /// Value of the `X-AS-Inject` header: JSON with every non-ASCII character
    /// escaped, so that it is a valid header value whatever the names are.
    pub fn to_header_value(&self) -> String {
        let json = serde_json::to_string(&self.injections).expect("plan serialises");
        ascii_json(&json)
    }

    /// Parses and validates an `X-AS-Inject` header value.
    pub fn from_header_value(value: &str) -> Result<Self, PlanError> {
        let injections: Vec<Injection> =
            serde_json::from_str(value).map_err(|e| PlanError::Malformed(e.to_string()))?;
        let plan = InjectionPlan { injections };
        plan.validate()?;
        Ok(plan)
    }

    /// Adds the injection described by an upstream-protocol header
    /// `X-AS-Inject-<rest>: <secret>`. `rest` is the part after the prefix as
    /// received; HTTP header names are case-insensitive, so targets arrive
    /// lower-cased and a body path's `-` means nesting, as upstream.
    pub fn push_legacy(&mut self, rest: &str, secret: &str) -> Result<(), PlanError> {
        let lower = rest.to_ascii_lowercase();
        let (style, target) = match lower.split_once('-') {
            None => match lower.as_str() {
                "bearer" => (AuthStyle::Bearer, None),
                "basic" => (AuthStyle::Basic, None),
                _ => return Err(unknown_legacy(rest)),
            },
            Some((style, target)) => {
                let style = match style {
                    "header" => AuthStyle::Header,
                    "query" => AuthStyle::Query,
                    "body" => AuthStyle::Body,
                    "form" => AuthStyle::Form,
                    _ => return Err(unknown_legacy(rest)),
                };
                let target = if style == AuthStyle::Body {
                    target.replace('-', ".")
                } else {
                    target.to_owned()
                };
                (style, Some(target))
            }
        };
        self.injections.push(Injection {
            style,
            target,
            secret: secret.trim().to_owned(),
        });
        Ok(())
    }

    /// The upstream protocol's headers for this plan, for talking to the
    /// upstream Go proxy. That proxy canonicalises header names, so targets
    /// lose their case there; body paths cannot contain `-`.
    pub fn to_legacy_headers(&self) -> Vec<(String, String)> {
        self.injections
            .iter()
            .map(|inj| {
                let name = match (inj.style, &inj.target) {
                    (AuthStyle::Bearer, _) => "X-AS-Inject-Bearer".to_owned(),
                    (AuthStyle::Basic, _) => "X-AS-Inject-Basic".to_owned(),
                    (s, Some(t)) => {
                        let style = match s {
                            AuthStyle::Header => "Header",
                            AuthStyle::Query => "Query",
                            AuthStyle::Body => "Body",
                            _ => "Form",
                        };
                        let t = if s == AuthStyle::Body {
                            t.replace('.', "-")
                        } else {
                            t.clone()
                        };
                        format!("X-AS-Inject-{style}-{t}")
                    }
                    (_, None) => "X-AS-Inject-Invalid".to_owned(),
                };
                (name, inj.secret.clone())
            })
            .collect()
    }
}

fn unknown_legacy(rest: &str) -> PlanError {
    PlanError::UnknownLegacyStyle {
        shown: names::shown(&format!("X-AS-Inject-{rest}")),
    }
}

/// Splits a JSON body path on `.`; `\.` is a literal dot and `\\` a backslash.
pub fn split_body_path(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => out.last_mut().expect("non-empty").push(n),
                None => out.last_mut().expect("non-empty").push('\\'),
            },
            '.' => out.push(String::new()),
            c => out.last_mut().expect("non-empty").push(c),
        }
    }
    out
}

/// Escapes every non-ASCII character of serialised JSON as `\uXXXX`.
/// Non-ASCII can only occur inside strings, where the escape is equivalent.
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(items: &[(AuthStyle, Option<&str>, &str)]) -> InjectionPlan {
        InjectionPlan {
            injections: items
                .iter()
                .map(|(s, t, k)| Injection::new(*s, *t, k))
                .collect(),
        }
    }

    #[test]
    fn round_trips_exact_case_and_unicode() {
        let p = plan(&[
            (AuthStyle::Bearer, None, "STRIPE_KEY"),
            (AuthStyle::Query, Some("key"), "GMAP_KEY"),
            (AuthStyle::Body, Some("auth.client_secret"), "CS"),
            (AuthStyle::Form, Some("naïve"), "API_KEY"),
            (AuthStyle::Header, Some("X-Org-ID"), "ORG"),
        ]);
        let v = p.to_header_value();
        assert!(v.is_ascii());
        assert_eq!(InjectionPlan::from_header_value(&v).unwrap(), p);
    }

    #[test]
    fn refuses_crlf_everywhere() {
        for p in [
            plan(&[(AuthStyle::Bearer, None, "A\r\nB")]),
            plan(&[(AuthStyle::Header, Some("X-A\r\nEvil: 1"), "K")]),
            plan(&[(AuthStyle::Query, Some("k\n"), "K")]),
            plan(&[(AuthStyle::Form, Some("f\0"), "K")]),
        ] {
            assert!(p.validate().is_err());
        }
    }

    #[test]
    fn refuses_conflicts_and_reserved_headers() {
        assert_eq!(
            plan(&[
                (AuthStyle::Bearer, None, "A"),
                (AuthStyle::Basic, None, "B")
            ])
            .validate(),
            Err(PlanError::BearerAndBasic)
        );
        assert!(matches!(
            plan(&[
                (AuthStyle::Query, Some("k"), "A"),
                (AuthStyle::Query, Some("k"), "B")
            ])
            .validate(),
            Err(PlanError::Conflict { .. })
        ));
        assert!(plan(&[(AuthStyle::Header, Some("X-AS-Target-URL"), "A")])
            .validate()
            .is_err());
        assert!(plan(&[(AuthStyle::Header, Some("Host"), "A")])
            .validate()
            .is_err());
        assert!(plan(&[
            (AuthStyle::Query, Some("key"), "A"),
            (AuthStyle::Query, Some("Key"), "B")
        ])
        .validate()
        .is_ok());
    }

    #[test]
    fn missing_or_extra_targets() {
        assert!(plan(&[(AuthStyle::Query, None, "A")]).validate().is_err());
        assert!(plan(&[(AuthStyle::Bearer, Some("x"), "A")])
            .validate()
            .is_err());
        assert!(plan(&[(AuthStyle::Body, Some("a..b"), "A")])
            .validate()
            .is_err());
    }

    #[test]
    fn malformed_header_value() {
        for bad in [
            "",
            "{}",
            "[{\"style\":\"magic\",\"secret\":\"A\"}]",
            "[{\"style\":\"bearer\",\"secret\":\"A\",\"value\":\"x\"}]",
        ] {
            assert!(
                matches!(
                    InjectionPlan::from_header_value(bad),
                    Err(PlanError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn legacy_headers_map_to_the_plan() {
        let mut p = InjectionPlan::default();
        p.push_legacy("Bearer", "A").unwrap();
        p.push_legacy("query-key", "B").unwrap();
        p.push_legacy("Body-auth-key", "C").unwrap();
        p.push_legacy("Header-X-Org-ID", "D").unwrap();
        assert_eq!(
            p,
            plan(&[
                (AuthStyle::Bearer, None, "A"),
                (AuthStyle::Query, Some("key"), "B"),
                (AuthStyle::Body, Some("auth.key"), "C"),
                (AuthStyle::Header, Some("x-org-id"), "D"),
            ])
        );
        assert!(p.push_legacy("Magic", "E").is_err());
        assert_eq!(p.to_legacy_headers()[2].0, "X-AS-Inject-Body-auth-key");
    }

    #[test]
    fn body_paths_split_with_escapes() {
        assert_eq!(split_body_path("a.b"), vec!["a", "b"]);
        assert_eq!(split_body_path("a\\.b.c"), vec!["a.b", "c"]);
        assert_eq!(split_body_path("client_secret"), vec!["client_secret"]);
    }
}

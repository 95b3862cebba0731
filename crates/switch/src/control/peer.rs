//! Who is on the other end of a control connection, as the kernel says (SO_PEERCRED): the
//! operator's OS user goes into the log and the monitoring audit, whatever they claim.

use std::ffi::CStr;
use std::fmt;
use std::mem::MaybeUninit;

use tokio::net::UnixStream;

/// The OS user (and process) that opened a control connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsUser {
    /// The user id.
    pub uid: u32,
    /// The user's name, when the user database knows the uid.
    pub name: Option<String>,
    /// The client's process id, when the kernel gives it.
    pub pid: Option<i32>,
}

impl OsUser {
    /// The peer of `stream`; `None` if the kernel would not say.
    pub async fn of(stream: &UnixStream) -> Option<OsUser> {
        let cred = stream.peer_cred().ok()?;
        let uid = cred.uid();
        // The user database may be LDAP behind NSS: not on a runtime thread.
        let name = tokio::task::spawn_blocking(move || user_name(uid))
            .await
            .ok()
            .flatten();
        Some(OsUser {
            uid,
            name,
            pid: cred.pid(),
        })
    }

    /// How the audit row names the user: the name, or `uid N` when it has none.
    pub fn audit_name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("uid {}", self.uid),
        }
    }
}

impl fmt::Display for OsUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} (uid {})", self.uid)?,
            None => write!(f, "uid {}", self.uid)?,
        }
        match self.pid {
            Some(pid) => write!(f, ", pid {pid}"),
            None => Ok(()),
        }
    }
}

/// The login name of `uid` from the user database, if it has one.
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        let mut pwd = MaybeUninit::<libc::passwd>::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: `pwd` and `found` are writable,
        // `buf` is writable for `buf.len()` bytes; getpwuid_r writes only within them.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                pwd.as_mut_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 16 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || found.is_null() {
            return None;
        }
        // SAFETY: on success `found` points at `pwd`, whose strings live in `buf`, both
        // alive here; the name is NUL-terminated by getpwuid_r.
        let name = unsafe {
            let name = (*found).pw_name;
            if name.is_null() {
                return None;
            }
            CStr::from_ptr(name)
        };
        return Some(name.to_string_lossy().into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_named_and_an_unused_uid_is_not() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert_eq!(user_name(3_999_999_999), None);
    }

    #[tokio::test]
    async fn the_peer_of_a_connection_is_this_process_user() {
        let (a, _b) = UnixStream::pair().unwrap();
        let who = OsUser::of(&a).await.unwrap();
        // SAFETY: getuid cannot fail and touches no memory of ours.
        let uid = unsafe { libc::getuid() };
        assert_eq!(who.uid, uid);
        assert_eq!(who.pid, Some(std::process::id() as i32));
        assert_eq!(who.name, user_name(uid));
        let shown = who.to_string();
        assert!(shown.contains(&format!("uid {uid}")), "{shown}");
    }

    #[test]
    fn a_user_without_a_name_is_audited_by_uid() {
        let who = OsUser {
            uid: 4242,
            name: None,
            pid: None,
        };
        assert_eq!(who.audit_name(), "uid 4242");
        assert_eq!(who.to_string(), "uid 4242");
    }
}

//! What a person calls the browser a session or a sign-in came from: shown on the
//! sessions list and in the new-device notice.

/// "Chrome on Linux"-style summary of a user agent, good enough to tell devices apart.
pub fn describe(agent: Option<&str>) -> String {
    let Some(ua) = agent else {
        return "Unknown device".into();
    };
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/"]
        .iter()
        .find(|b| ua.contains(*b))
        .map(|b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            "Safari/" => "Safari",
            _ => "curl",
        })
        .unwrap_or("Browser");
    let os = ["Windows", "Android", "iPhone", "Mac OS", "Linux"]
        .iter()
        .find(|o| ua.contains(*o))
        .copied();
    match os {
        Some(os) => format!("{browser} on {}", os.replace("Mac OS", "macOS")),
        None => browser.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn describes_common_agents() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(describe(Some(chrome)), "Chrome on Linux");
        assert_eq!(describe(Some("curl/8.0")), "curl");
        assert_eq!(describe(None), "Unknown device");
    }
}

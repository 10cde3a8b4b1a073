//! Reading the admin password: from a TTY prompt, or from stdin when asked.

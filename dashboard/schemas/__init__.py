"""The schemas page: a cluster's registry subjects, versions, compatibility and topics."""

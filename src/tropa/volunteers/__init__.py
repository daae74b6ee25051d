"""The volunteer network: profiles, invitations, vetting, workload and revocation (M7)."""

package migrate

// CompanionReasons lists the reasons the companion triggers (pre token
// generation, pre sign-up) give with outcome o: the metrics' Reason values
// for OutcomeAllowed, OutcomeRefused and OutcomeGroupsApplied. (Reasons
// lists the migrate-user trigger's.)
func CompanionReasons(o Outcome) []Reason {
	switch o {
	case OutcomeAllowed:
		return []Reason{NoOldUser, MigrationSignUp, NotGuarded, NoGroups}
	case OutcomeRefused:
		return []Reason{OldUserExists, GroupsRefused}
	case OutcomeGroupsApplied:
		return []Reason{GroupsAppliedReason}
	}
	return nil
}

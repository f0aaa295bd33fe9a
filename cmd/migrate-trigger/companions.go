package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/metrics"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
	"github.com/cognito-migrate/cognito-migrate/internal/trigger"
)

// handler is the function's one handler: the "Migrate user" handler behind
// the router, with the companion triggers the settings enable (groups that
// follow the user, the sign-up guard).
func handler(s settings.Settings, oldAPI *cip.Client, pool *cognito.OldPool, newAPI *cip.Client,
	log *slog.Logger, emf *metrics.EMF) lambda.Handler {
	newPool := cognito.NewNewPool(newAPI)
	dir := cognito.NewOldDirectory(oldAPI, pool)
	var decider trigger.Decider = migrate.New(pool, newPool, s.Rules)
	var opts []trigger.RouterOption
	if attr := s.Companions.GroupsAttribute; attr != "" {
		decider = migrate.CarryGroups(decider, dir, newPool, attr)
		applier := migrate.NewGroupApplier(cognito.NewNewGroups(newAPI), dir, attr, s.Companions.CreateMissingGroups)
		opts = append(opts, trigger.RouteTokens(trigger.NewPreToken(applier, log, emf)))
	}
	if s.Companions.SignUpGuard {
		guard := migrate.NewSignUpGuard(dir, newPool, s.Rules.LegacySub)
		opts = append(opts, trigger.RouteSignUps(trigger.NewPreSignUp(guard, s.Companions.SignUpGuardMessage, log, emf)))
	}
	migrateUser := trigger.NewHandler(decider, log, trigger.WithDeclineMode(s.Decline), trigger.WithMetrics(emf))
	return trigger.NewRouter(migrateUser, log, append(opts, trigger.RouteMetrics(emf))...)
}

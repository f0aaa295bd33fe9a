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
// decider makes the migrate-user decisions, opts configure that handler.
func handler(s settings.Settings, oldAPI *cip.Client, pool *cognito.OldPool, newPool *cognito.NewPool, newAPI *cip.Client,
	log *slog.Logger, emf *metrics.EMF, decider trigger.Decider, opts ...trigger.Option) lambda.Handler {
	dir := cognito.NewOldDirectory(oldAPI, pool)
	var routes []trigger.RouterOption
	if attr := s.Companions.GroupsAttribute; attr != "" {
		decider = migrate.CarryGroups(decider, newPool, attr)
		applier := migrate.NewGroupApplier(cognito.NewNewGroups(newAPI), dir, attr, s.Companions.CreateMissingGroups)
		routes = append(routes, trigger.RouteTokens(trigger.NewPreToken(applier, log, emf)))
	}
	if s.Companions.SignUpGuard {
		guard := migrate.NewSignUpGuard(dir, newPool, s.Rules.LegacySub)
		routes = append(routes, trigger.RouteSignUps(trigger.NewPreSignUp(guard, s.Companions.SignUpGuardMessage, log, emf)))
	}
	migrateUser := trigger.NewHandler(decider, log, append(opts, trigger.WithMetrics(emf))...)
	return trigger.NewRouter(migrateUser, log, append(routes, trigger.RouteMetrics(emf))...)
}

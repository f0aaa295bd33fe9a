package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// AmbiguousUser: in a merge, more than one asked old pool has a user by the
// name typed. Two people own that name; neither is given it.
const AmbiguousUser Reason = "ambiguous_user"

// Route says which typed names an old pool of a merge owns (OLD_ROUTE,
// OLD_2_ROUTE, ...): alternatives separated by ",", any of which may match.
//
//	email@globex.com,globex.org   a typed email address at one of these domains (ASCII case-insensitive)
//	form:phone                    a typed phone number (+ and digits)
//	form:email                    any typed email address (holds an @)
//	form:username                 anything else
//
// The zero Route owns no name. A typed name routed to one or more pools is
// asked of those pools only; a name no route owns is asked of every pool.
type Route struct {
	// Domains are email domains; Forms are "email", "phone", "username".
	Domains, Forms []string
}

// ParseRoute reads a route. The error does not name the setting.
func ParseRoute(s string) (Route, error) {
	var r Route
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
			return Route{}, fmt.Errorf("%q has an empty alternative: write email@domain[,domain] or form:email|phone|username", s)
		case strings.HasPrefix(part, "form:"):
			f := strings.TrimPrefix(part, "form:")
			if f != "email" && f != "phone" && f != "username" {
				return Route{}, fmt.Errorf("%q: the form is email, phone or username", part)
			}
			r.Forms = append(r.Forms, f)
		case strings.HasPrefix(part, scopeEmailPrefix):
			d := strings.TrimPrefix(part, scopeEmailPrefix)
			if d == "" || strings.ContainsAny(d, "@ \t") || !strings.Contains(d, ".") {
				return Route{}, fmt.Errorf("%q is not an email domain, e.g. email@globex.com", part)
			}
			r.Domains = append(r.Domains, d)
		default:
			// A bare domain after an email@ one: email@a.com,b.com.
			if len(r.Domains) > 0 && !strings.ContainsAny(part, "@:= \t") && strings.Contains(part, ".") {
				r.Domains = append(r.Domains, part)
				continue
			}
			return Route{}, fmt.Errorf("%q is not a route: write email@domain[,domain] or form:email|phone|username", part)
		}
	}
	return r, nil
}

// String writes the route back in its syntax.
func (r Route) String() string {
	var parts []string
	for i, d := range r.Domains {
		if i == 0 {
			d = scopeEmailPrefix + d
		}
		parts = append(parts, d)
	}
	for _, f := range r.Forms {
		parts = append(parts, "form:"+f)
	}
	return strings.Join(parts, ",")
}

// Owns reports whether the route claims the typed name.
func (r Route) Owns(typed string) bool {
	form := typedForm(typed)
	if slices.Contains(r.Forms, form) {
		return true
	}
	if form != "email" {
		return false
	}
	domain := typed[strings.LastIndexByte(typed, '@')+1:]
	return slices.ContainsFunc(r.Domains, func(d string) bool { return asciiEqualFold(d, domain) })
}

// typedForm is "email" (holds an @), "phone" (+ and 1 to 15 digits, E.164)
// or "username".
func typedForm(typed string) string {
	if strings.Contains(typed, "@") {
		return "email"
	}
	if len(typed) >= 2 && len(typed) <= 16 && typed[0] == '+' &&
		strings.Trim(typed[1:], "0123456789") == "" {
		return "phone"
	}
	return "username"
}

// Source is one old pool of a merge: its Migrator, and the same OldPool
// the Migrator was built with.
type Source struct {
	// Name tells the pool apart in logs: "1" for OLD_*, "2" for OLD_2_*...
	Name     string
	Pool     OldPool
	Migrator *Migrator
	Route    Route
}

// Merge decides for a new pool that takes users from several old pools. It
// is a Decider like Migrator; a single old pool needs no Merge.
//
// Sign-in: the pools the route picks (all, when no route owns the typed
// name) are asked at the same time, each with its sign-in and its lookup in
// parallel, so the critical path stays one round trip. A user migrates from
// the pool that proved the password only if no other asked pool has a user
// by the typed name: a name two people own is declined (ambiguous_user) for
// both. A fault in any asked pool is a fault: without its answer nobody can
// tell whether the name is someone else's too.
//
// Forgot password: the user must exist in exactly one asked pool.
type Merge struct {
	sources []Source
}

// NewMerge returns a Merge of the old pools sources, in their fixed order.
// Each source's Migrator must have been built with an OldPool wrapped by
// SharedLookups, so that the Merge's lookups and the Migrator's are one call.
func NewMerge(sources ...Source) *Merge {
	return &Merge{sources: sources}
}

// Sources lists the merge's old pools, in order.
func (m *Merge) Sources() []Source { return slices.Clone(m.sources) }

// Asked lists the sources a typed name is asked of: those whose route owns
// it, else every source. `cognito-migrate explain` shows it.
func (m *Merge) Asked(typed string) []Source { return m.asked(typed) }

// asked are the sources for a typed name.
func (m *Merge) asked(typed string) []Source {
	var routed []Source
	for _, s := range m.sources {
		if s.Route.Owns(typed) {
			routed = append(routed, s)
		}
	}
	if len(routed) > 0 {
		return routed
	}
	return m.sources
}

// answer is one pool's part of a merged decision.
type answer struct {
	src     Source
	d       Decision
	err     error
	exists  bool
	lookErr error // the lookup failed: existence unknown
}

// Authenticate decides a sign-in against every asked pool.
func (m *Merge) Authenticate(ctx context.Context, req Request) (Decision, error) {
	if d, ok := unanswerable(req, true); ok {
		return d, nil
	}
	return m.decide(ctx, req, true)
}

// ForgotPassword decides a forgot-password event: the one asked pool that
// has the user decides.
func (m *Merge) ForgotPassword(ctx context.Context, req Request) (Decision, error) {
	if d, ok := unanswerable(req, false); ok {
		return d, nil
	}
	return m.decide(ctx, req, false)
}

func (m *Merge) decide(ctx context.Context, req Request, signIn bool) (Decision, error) {
	ctx, shared := withSharedLookups(ctx)
	defer shared.cancel()
	asked := m.asked(req.Username)
	answers := make([]answer, len(asked))
	var wg sync.WaitGroup
	for i, src := range asked {
		wg.Go(func() {
			a := answer{src: src}
			var lookWG sync.WaitGroup
			lookWG.Go(func() {
				_, err := src.Pool.GetUser(ctx, req.Username)
				switch {
				case err == nil:
					a.exists = true
				case !errors.Is(err, ErrUserNotFound):
					a.lookErr = err
				}
			})
			if signIn {
				a.d, a.err = src.Migrator.Authenticate(ctx, req)
			}
			lookWG.Wait()
			answers[i] = a
		})
	}
	wg.Wait()

	var owners []string
	for _, a := range answers {
		if a.lookErr != nil {
			return Decision{}, fmt.Errorf("old pool %s: get user: %w", a.src.Name, a.lookErr)
		}
		if a.err != nil {
			return Decision{}, fmt.Errorf("old pool %s: %w", a.src.Name, a.err)
		}
		if a.exists {
			owners = append(owners, a.src.Name)
		}
	}
	if len(owners) > 1 {
		return Decision{Reason: AmbiguousUser, Detail: "old pools " + strings.Join(owners, ",")}, nil
	}
	if !signIn {
		for _, a := range answers {
			if a.exists {
				d, err := a.src.Migrator.ForgotPassword(ctx, req)
				d.OldPool = a.src.Name
				if err != nil {
					err = fmt.Errorf("old pool %s: %w", a.src.Name, err)
				}
				return d, err
			}
		}
		return decline(UserNotFound, ""), nil
	}
	// At most one pool has the user. A pool that proved a password for a
	// user its lookup cannot find is a race (deleted in between), and
	// Authenticate declines it itself.
	for _, a := range answers {
		if a.d.Migrate {
			if !a.exists {
				return decline(UserNotFound, "after sign-in"), nil
			}
			a.d.OldPool = a.src.Name
			return a.d, nil
		}
	}
	// Nobody migrates: the owner's reason says most, else the first pool's.
	for _, a := range answers {
		if a.exists {
			a.d.OldPool = a.src.Name
			return a.d, nil
		}
	}
	return answers[0].d, nil
}

// sharedLookupsKey carries a request's *sharedLookups in its context.
type sharedLookupsKey struct{}

// sharedLookups lets the Merge and a Migrator ask the same pool for the
// same user with one call: the first asks, the other waits for the answer.
// The call runs under the request's context, so a Migrator that stops
// waiting (its sign-in failed) does not cancel the Merge's lookup.
type sharedLookups struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	calls  map[sharedKey]*sharedCall
}

type sharedKey struct {
	pool     *sharedPool
	username string
}

type sharedCall struct {
	done chan struct{}
	user User
	err  error
}

func withSharedLookups(ctx context.Context) (context.Context, *sharedLookups) {
	s := &sharedLookups{calls: map[sharedKey]*sharedCall{}}
	s.ctx, s.cancel = context.WithCancel(ctx)
	return context.WithValue(ctx, sharedLookupsKey{}, s), s
}

// SharedLookups wraps the OldPool of a merge's source: within one merged
// decision, GetUser for the same name is asked of the pool once.
func SharedLookups(p OldPool) OldPool { return &sharedPool{OldPool: p} }

type sharedPool struct{ OldPool }

func (p *sharedPool) GetUser(ctx context.Context, username string) (User, error) {
	s, ok := ctx.Value(sharedLookupsKey{}).(*sharedLookups)
	if !ok {
		return p.OldPool.GetUser(ctx, username)
	}
	key := sharedKey{p, username}
	s.mu.Lock()
	c, started := s.calls[key]
	if !started {
		c = &sharedCall{done: make(chan struct{})}
		s.calls[key] = c
	}
	s.mu.Unlock()
	if !started {
		go func() {
			c.user, c.err = p.OldPool.GetUser(s.ctx, username)
			close(c.done)
		}()
	}
	select {
	case <-c.done:
		return c.user, c.err
	case <-ctx.Done():
		return User{}, ctx.Err()
	}
}

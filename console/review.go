package console

// Review is the review workflow the console's review pages act through
// (package review's Service). Until it is wired, the review section is
// hidden.
type Review interface{}

// reviewRoutes are the review section's pages.
func (s *Server) reviewRoutes() []Route { return nil }

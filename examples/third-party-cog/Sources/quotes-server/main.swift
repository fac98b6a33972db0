import GuildhallServer
import QuotesCog
import TicketsCog

// A deployment of our own: Guildhall's Tickets beside our Quotes, with the whole `guildhall` command line
// (serve, config check, cogs, user, guild, db, ...).
await GuildhallCommand.main(cogs: [TicketsCog.self, QuotesCog.self])

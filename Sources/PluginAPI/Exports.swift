// A cog imports PluginAPI alone: the Hummingbird types its routes use (Request, Response, ResponseEncodable,
// HTTPRequest.Method, ...) come with it.
@_exported import Hummingbird
@_exported import HTTPTypes

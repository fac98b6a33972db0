import PluginAPI

/// `push`: Firebase Cloud Messaging (HTTP v1) for push notifications. Give the service account's JSON key file
/// (from the Firebase console) as `service_account_file`, or its `project_id`, `client_email` and `private_key`
/// (write it as `${FCM_PRIVATE_KEY}`). Without credentials no notification is sent; devices can still register.
public struct PushSettings: CogConfiguration {
    public var serviceAccountFile = ""
    public var projectID = ""
    public var clientEmail = ""
    public var privateKey = ""
    /// Where access tokens come from (the key file's `token_uri` wins when it has one).
    public var tokenURL = "https://oauth2.googleapis.com/token"
    /// FCM's API; messages go to `<fcm_base_url>/v1/projects/<project_id>/messages:send`.
    public var fcmBaseURL = "https://fcm.googleapis.com"
    /// How long one send may take.
    public var timeoutSeconds = 10.0
    /// Notifications waiting to be sent before new ones are dropped (and logged).
    public var queueLimit = 10_000
    public static var secretKeys: Set<String> { ["private_key"] }
    public init() {}
    public static var ranges: [String: ClosedRange<Double>] {
        [
            "timeout_seconds": 0.1...300,
            "queue_limit": 1...10_000_000,
        ]
    }
    enum CodingKeys: String, CodingKey {
        case serviceAccountFile = "service_account_file", projectID = "project_id", clientEmail = "client_email"
        case privateKey = "private_key", tokenURL = "token_url", fcmBaseURL = "fcm_base_url"
        case timeoutSeconds = "timeout_seconds", queueLimit = "queue_limit"
    }
}

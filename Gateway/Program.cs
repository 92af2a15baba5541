using OrleansLlm.Gateway;
using OrleansLlm.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddOrleansLlmClient();
builder.AddOrleansLlmGateway();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapOrleansLlmGateway();
app.Run();

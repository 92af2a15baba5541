using OrleansLlm.ServiceDefaults;
using OrleansLlm.Silo;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddOrleansLlmSilo();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapOrleansLlmSiloEndpoints();
app.Run();

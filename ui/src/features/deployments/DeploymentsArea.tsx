import { areaById } from '../../app/areas';
import { NotBuiltYet } from '../../components/NotBuiltYet';

export function DeploymentsArea() {
  return (
    <NotBuiltYet
      area={areaById('deployments')}
      willDo="This area will show what is deployed where: each service's current and previous deployments, with the time the data is as of."
      runbookProcedures={['Checking Deployment Status']}
    />
  );
}
